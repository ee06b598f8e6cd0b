using System.Globalization;
using System.Text;
using Tomlyn.Model;

namespace Conduit.Net.Config;

/// <summary>
/// One config key: its path under <c>[global]</c> (dots for nested tables), the kind of value it
/// takes, and how it reads and sets <see cref="ServerConfig"/>. The factories below are the only
/// kinds; <see cref="ConfigKeys.All"/> lists every key with one line each.
/// </summary>
internal abstract class ConfigKey
{
    private protected ConfigKey(string path, string expected, bool secret)
    {
        Path = path;
        Expected = expected;
        Secret = secret;
    }

    /// <summary>How <see cref="Show"/> renders an optional key with no value.</summary>
    public const string Unset = "(not set)";

    /// <summary>The key's path relative to <c>[global]</c>, e.g. <c>well_known.client</c>.</summary>
    public string Path { get; }

    /// <summary>The full TOML name, as error messages show it.</summary>
    public string TomlName => "global." + Path;

    /// <summary>What a valid value looks like, for error messages ("an integer from 0 to 65535").</summary>
    public string Expected { get; }

    /// <summary>Whether summaries must hide the value.</summary>
    public bool Secret { get; }

    /// <summary>
    /// <c>CONDUIT_</c> + the path upper-cased, with <c>__</c> for each table level:
    /// <c>well_known.client</c> → <c>CONDUIT_WELL_KNOWN__CLIENT</c>.
    /// </summary>
    public string EnvironmentVariable => "CONDUIT_" + Path.Replace(".", "__", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>Sets the key from a parsed TOML value; false when the value has the wrong type or range.</summary>
    public abstract bool TrySet(ref ServerConfig config, object tomlValue);

    /// <summary>Sets the key from an environment variable's text; false when it does not parse.</summary>
    public abstract bool TrySetText(ref ServerConfig config, string text);

    /// <summary>The key's current value as a TOML literal (secrets included: callers decide what to hide).</summary>
    public abstract string Show(ServerConfig config);

    public static ConfigKey Text(string path, Func<ServerConfig, string> get, Func<ServerConfig, string, ServerConfig> set) =>
        new Typed<string>(path, "a string", v => v as string, t => t, get, set, Quote);

    /// <summary>A string that may be unset; an empty string unsets it, so an env variable can clear a file's value.</summary>
    public static ConfigKey OptionalText(
        string path,
        Func<ServerConfig, string?> get,
        Func<ServerConfig, string?, ServerConfig> set,
        bool secret = false) =>
        new Typed<Optional>(
            path,
            "a string",
            v => v is string s ? new Optional(s.Length == 0 ? null : s) : null,
            t => new Optional(t.Length == 0 ? null : t),
            c => new Optional(get(c)),
            (c, v) => set(c, v.Value),
            v => v.Value is null ? Unset : Quote(v.Value),
            secret);

    public static ConfigKey Flag(string path, Func<ServerConfig, bool> get, Func<ServerConfig, bool, ServerConfig> set) =>
        new Typed<Boxed<bool>>(
            path,
            "true or false",
            v => v is bool b ? new Boxed<bool>(b) : null,
            t => bool.TryParse(t, out var b) ? new Boxed<bool>(b) : null,
            c => new Boxed<bool>(get(c)),
            (c, v) => set(c, v.Value),
            v => v.Value ? "true" : "false");

    public static ConfigKey Integer(
        string path,
        long min,
        long max,
        Func<ServerConfig, long> get,
        Func<ServerConfig, long, ServerConfig> set) =>
        new Typed<Boxed<long>>(
            path,
            $"an integer from {min} to {max}",
            v => v is long l && l >= min && l <= max ? new Boxed<long>(l) : null,
            t => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && l >= min && l <= max
                ? new Boxed<long>(l)
                : null,
            c => new Boxed<long>(get(c)),
            (c, v) => set(c, v.Value),
            v => v.Value.ToString(CultureInfo.InvariantCulture));

    /// <summary>An array of strings; its environment form is comma-separated (empty text = empty list).</summary>
    public static ConfigKey TextList(
        string path,
        Func<ServerConfig, IReadOnlyList<string>> get,
        Func<ServerConfig, IReadOnlyList<string>, ServerConfig> set) =>
        new Typed<IReadOnlyList<string>>(
            path,
            "an array of strings",
            v => v is TomlArray array && array.All(item => item is string) ? array.Cast<string>().ToArray() : null,
            t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            get,
            set,
            v => "[" + string.Join(", ", v.Select(Quote)) + "]");

    /// <summary>A string from a fixed set of names, each standing for a typed value.</summary>
    public static ConfigKey Choice<T>(
        string path,
        IReadOnlyList<(string Name, T Value)> choices,
        Func<ServerConfig, T> get,
        Func<ServerConfig, T, ServerConfig> set)
        where T : notnull
    {
        Boxed<T>? Parse(string name)
        {
            foreach (var (n, value) in choices)
            {
                if (n == name)
                    return new Boxed<T>(value);
            }
            return null;
        }

        return new Typed<Boxed<T>>(
            path,
            "one of " + string.Join(", ", choices.Select(c => Quote(c.Name))),
            v => v is string s ? Parse(s) : null,
            Parse,
            c => new Boxed<T>(get(c)),
            (c, v) => set(c, v.Value),
            v => Quote(choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, v.Value)).Name));
    }

    /// <summary>A TOML basic string with the escapes TOML requires.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                        builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }

    /// <summary>Value types travel boxed so that "did not parse" can be a plain null.</summary>
    private sealed record Boxed<T>(T Value);

    /// <summary>An optional string travels wrapped so that "unset" and "did not parse" differ.</summary>
    private sealed record Optional(string? Value);

    private sealed class Typed<T>(
        string path,
        string expected,
        Func<object, T?> fromToml,
        Func<string, T?> fromText,
        Func<ServerConfig, T> get,
        Func<ServerConfig, T, ServerConfig> set,
        Func<T, string> show,
        bool secret = false) : ConfigKey(path, expected, secret)
        where T : class
    {
        public override bool TrySet(ref ServerConfig config, object tomlValue) => Apply(ref config, fromToml(tomlValue));

        public override bool TrySetText(ref ServerConfig config, string text) => Apply(ref config, fromText(text));

        public override string Show(ServerConfig config) => show(get(config));

        private bool Apply(ref ServerConfig config, T? value)
        {
            if (value is null)
                return false;
            config = set(config, value);
            return true;
        }
    }
}
