using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;

namespace Conduit.Net.Config;

/// <summary>
/// Builds the <see cref="ServerConfig"/> the server runs with: the embedded defaults, then the TOML
/// file if there is one, then <c>CONDUIT_*</c> environment overrides, then validation. Anything
/// wrong throws <see cref="ConfigException"/> with one line that says where and what.
/// </summary>
internal static class ConfigLoader
{
    /// <summary>The config file to read: <c>--config</c>, else <c>CONDUIT_CONFIG</c>, else none (embedded defaults).</summary>
    public static string? ResolvePath(string? optionPath, IReadOnlyDictionary<string, string> environment)
    {
        if (!string.IsNullOrEmpty(optionPath))
            return optionPath;
        return environment.TryGetValue(ConfigKeys.ConfigFileVariable, out var path) && path.Length > 0 ? path : null;
    }

    public static ServerConfig Load(string? path, IReadOnlyDictionary<string, string> environment)
    {
        var config = new ServerConfig();
        var fileNamesServer = false;
        if (path is not null)
            (config, fileNamesServer) = Parse(ReadFile(path), path, config);

        config = ApplyEnvironment(config, environment, out var environmentNamesServer);

        // A file that forgets server_name would silently become "localhost", which is permanent once
        // users exist; only the no-file developer default may rely on it.
        if (path is not null && !fileNamesServer && !environmentNamesServer)
            throw new ConfigException($"{path}: global.server_name is missing: set it to the domain in your users' IDs (it cannot change later)");

        ConfigValidator.Validate(config);
        return config;
    }

    /// <summary>Applies a TOML document over <paramref name="config"/>; also says whether it set <c>server_name</c>.</summary>
    public static (ServerConfig Config, bool NamesServer) Parse(string toml, string sourceName, ServerConfig config)
    {
        // The syntax parser validates what the model reader lets through (duplicate keys, a key
        // redefined as a table), and its messages carry line and column.
        var syntax = SyntaxParser.Parse(toml, sourceName, validate: true);
        var firstError = syntax.Diagnostics.FirstOrDefault(d => d.Kind == Tomlyn.Syntax.DiagnosticMessageKind.Error);
        if (firstError is not null)
            throw new ConfigException($"{At(sourceName, firstError.Span.Start.Line)}: {firstError.Message}");

        var metadata = new TomlMetadataStore();
        var options = new TomlSerializerOptions { SourceName = sourceName, MetadataStore = metadata, TypeInfoResolver = ConfigToml.Default };
        var typeInfo = (TomlTypeInfo<TomlTable>)ConfigToml.Default.GetTypeInfo(typeof(TomlTable), options)!;
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize(toml, typeInfo)!;
        }
        catch (TomlException e)
        {
            throw new ConfigException($"{At(sourceName, (e.Line ?? 0) - 1)}: {e.InnerException?.Message ?? e.Message}");
        }

        var walker = new Walker(sourceName, metadata, config);
        foreach (var (key, value) in root)
        {
            if (key != "global")
                throw new ConfigException($"{walker.At(root, key)}: unknown table or key '{key}': every setting goes under [global]");
            if (value is not TomlTable global)
                throw new ConfigException($"{walker.At(root, key)}: 'global' must be a table ([global])");
            walker.Walk(global, "");
        }
        return (walker.Config, walker.NamesServer);
    }

    /// <summary>
    /// Applies every <c>CONDUIT_*</c> variable; one that names no key is an error, so that a typo
    /// does not silently leave a default in place.
    /// </summary>
    public static ServerConfig ApplyEnvironment(ServerConfig config, IReadOnlyDictionary<string, string> environment, out bool namesServer)
    {
        namesServer = false;
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!name.StartsWith("CONDUIT_", StringComparison.Ordinal) || name == ConfigKeys.ConfigFileVariable)
                continue;
            var key = ConfigKeys.FindVariable(name)
                ?? throw new ConfigException($"{name}: no config key has this environment variable (keys map as CONDUIT_SERVER_NAME, CONDUIT_WELL_KNOWN__CLIENT)");
            if (!key.TrySetText(ref config, value))
                throw new ConfigException($"{name}: expected {key.Expected}, got '{value}'");
            namesServer |= key.Path == "server_name";
        }
        return config;
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ConfigException($"cannot read config file {path}: {e.Message}");
        }
    }

    private static string At(string sourceName, int zeroBasedLine) =>
        zeroBasedLine >= 0 ? $"{sourceName}:{zeroBasedLine + 1}" : sourceName;

    private static string Describe(object? value) => value switch
    {
        string s => $"the string {ConfigKey.Quote(s)}",
        long l => $"the integer {l}",
        double d => $"the float {d}",
        bool b => b ? "true" : "false",
        TomlArray => "an array",
        TomlTable => "a table",
        TomlTableArray => "an array of tables",
        _ => "a date or time",
    };

    /// <summary>Walks <c>[global]</c> against the key table, setting known keys and rejecting the rest.</summary>
    private sealed class Walker(string sourceName, TomlMetadataStore metadata, ServerConfig config)
    {
        public ServerConfig Config { get; private set; } = config;

        public bool NamesServer { get; private set; }

        public void Walk(TomlTable table, string prefix)
        {
            foreach (var (name, value) in table)
            {
                var path = prefix + name;
                var key = ConfigKeys.Find(path);
                if (key is not null)
                {
                    var updated = Config;
                    if (!key.TrySet(ref updated, value))
                        throw new ConfigException($"{At(table, name)}: {key.TomlName}: expected {key.Expected}, got {Describe(value)}");
                    Config = updated;
                    NamesServer |= path == "server_name";
                }
                else if (ConfigKeys.IsTable(path))
                {
                    if (value is not TomlTable inner)
                        throw new ConfigException($"{At(table, name)}: global.{path}: expected a table ([global.{path}]), got {Describe(value)}");
                    Walk(inner, path + ".");
                }
                else
                {
                    throw new ConfigException($"{At(table, name)}: unknown key global.{path}");
                }
            }
        }

        public string At(TomlTable table, string key) =>
            metadata.TryGetProperties(table, out var properties) && properties is not null && properties.TryGetProperty(key, out var property) && property is not null
                ? ConfigLoader.At(sourceName, property.Span.Start.Line)
                : sourceName;
    }
}
