using System.Text.Json.Serialization;

namespace Conduit.Net.Tests.Core;

/// <summary>Source-generated serialization for test inputs (reflection-based System.Text.Json is off).</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class TestJson : JsonSerializerContext;
