using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Conduit.Net.Config;

/// <summary>Source-generated Tomlyn metadata, so that parsing to a <see cref="TomlTable"/> needs no reflection.</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigToml : TomlSerializerContext;
