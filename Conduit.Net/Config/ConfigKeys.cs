using Conduit.Net.Core.RoomVersions;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Config;

/// <summary>
/// The one table of config keys. The TOML loader, the <c>CONDUIT_*</c> environment overrides,
/// unknown-key detection, <c>config check</c>'s summary and the test of <c>config.toml.example</c>
/// all read it: a new setting is one line here plus its property on <see cref="ServerConfig"/>.
/// </summary>
internal static class ConfigKeys
{
    /// <summary>Names the config file; read before the file, so it is not a key itself.</summary>
    public const string ConfigFileVariable = "CONDUIT_CONFIG";

    /// <summary>Conduit's key name, kept verbatim so its configs carry over.</summary>
    public const string OpenRegistrationOptIn = "yes_i_am_very_very_sure_i_want_an_open_registration_server_prone_to_abuse";

    /// <summary>Conduit's <c>log</c> key names levels the way tracing does; "off" silences everything.</summary>
    private static readonly (string, LogLevel)[] LogLevels =
    [
        ("trace", LogLevel.Trace),
        ("debug", LogLevel.Debug),
        ("info", LogLevel.Information),
        ("warn", LogLevel.Warning),
        ("error", LogLevel.Error),
        ("off", LogLevel.None),
    ];

    private static readonly (string, Durability)[] Durabilities = [("safe", Durability.Safe), ("fast", Durability.Fast)];

    /// <summary>The room versions a room can be created with: the room version table's supported ones.</summary>
    private static readonly (string, string)[] RoomVersions = [.. RoomVersion.Supported.Select(v => (v.Id, v.Id))];

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        ConfigKey.Text("server_name", c => c.ServerName, (c, v) => c with { ServerName = v }),
        ConfigKey.Text("database_path", c => c.DatabasePath, (c, v) => c with { DatabasePath = v }),
        ConfigKey.Text("address", c => c.Address, (c, v) => c with { Address = v }),
        ConfigKey.Integer("port", 0, 65535, c => c.Port, (c, v) => c with { Port = (int)v }),
        ConfigKey.Integer("max_request_size", 1, int.MaxValue, c => c.MaxRequestSize, (c, v) => c with { MaxRequestSize = v }),
        ConfigKey.Flag("allow_registration", c => c.AllowRegistration, (c, v) => c with { AllowRegistration = v }),
        ConfigKey.OptionalText("registration_token", c => c.RegistrationToken, (c, v) => c with { RegistrationToken = v }, secret: true),
        ConfigKey.OptionalText("registration_shared_secret", c => c.RegistrationSharedSecret, (c, v) => c with { RegistrationSharedSecret = v }, secret: true),
        ConfigKey.Flag(OpenRegistrationOptIn, c => c.OpenRegistrationAcknowledged, (c, v) => c with { OpenRegistrationAcknowledged = v }),
        ConfigKey.Flag("allow_federation", c => c.AllowFederation, (c, v) => c with { AllowFederation = v }),
        ConfigKey.TextList("trusted_servers", c => c.TrustedServers, (c, v) => c with { TrustedServers = v }),
        ConfigKey.OptionalText("tls.certs", c => c.Tls.Certs, (c, v) => c with { Tls = c.Tls with { Certs = v } }),
        ConfigKey.OptionalText("tls.key", c => c.Tls.Key, (c, v) => c with { Tls = c.Tls with { Key = v } }),
        ConfigKey.Flag("federation_listener", c => c.FederationListener, (c, v) => c with { FederationListener = v }),
        ConfigKey.Integer("federation_port", 1, 65535, c => c.FederationPort, (c, v) => c with { FederationPort = (int)v }),
        ConfigKey.TextList("federation_custom_ca_list", c => c.FederationCustomCaList, (c, v) => c with { FederationCustomCaList = v }),
        ConfigKey.Flag("federation_verify_certificates", c => c.FederationVerifyCertificates, (c, v) => c with { FederationVerifyCertificates = v }),
        ConfigKey.TextList("federation_ip_range_blacklist", c => c.FederationIpRangeBlacklist, (c, v) => c with { FederationIpRangeBlacklist = v }),
        ConfigKey.TextList("federation_domain_whitelist", c => c.FederationDomainWhitelist, (c, v) => c with { FederationDomainWhitelist = v }),
        ConfigKey.Choice("default_room_version", RoomVersions, c => c.DefaultRoomVersion, (c, v) => c with { DefaultRoomVersion = v }),
        ConfigKey.Flag("allow_encryption", c => c.AllowEncryption, (c, v) => c with { AllowEncryption = v }),
        ConfigKey.Choice("log", LogLevels, c => c.Log, (c, v) => c with { Log = v }),
        ConfigKey.Flag("rate_limiting", c => c.RateLimiting, (c, v) => c with { RateLimiting = v }),
        ConfigKey.Integer("rate_limits.login.per_minute", 1, 1_000_000, c => c.RateLimits.Login.PerMinute, (c, v) => c with { RateLimits = c.RateLimits with { Login = c.RateLimits.Login with { PerMinute = (int)v } } }),
        ConfigKey.Integer("rate_limits.login.burst", 1, 1_000_000, c => c.RateLimits.Login.Burst, (c, v) => c with { RateLimits = c.RateLimits with { Login = c.RateLimits.Login with { Burst = (int)v } } }),
        ConfigKey.Integer("rate_limits.register.per_minute", 1, 1_000_000, c => c.RateLimits.Register.PerMinute, (c, v) => c with { RateLimits = c.RateLimits with { Register = c.RateLimits.Register with { PerMinute = (int)v } } }),
        ConfigKey.Integer("rate_limits.register.burst", 1, 1_000_000, c => c.RateLimits.Register.Burst, (c, v) => c with { RateLimits = c.RateLimits with { Register = c.RateLimits.Register with { Burst = (int)v } } }),
        ConfigKey.Choice("durability", Durabilities, c => c.Durability, (c, v) => c with { Durability = v }),
        ConfigKey.Integer("refreshable_access_token_lifetime_ms", 1, int.MaxValue, c => c.RefreshableAccessTokenLifetimeMs, (c, v) => c with { RefreshableAccessTokenLifetimeMs = v }),
        ConfigKey.OptionalText("well_known.client", c => c.WellKnown.Client, (c, v) => c with { WellKnown = c.WellKnown with { Client = v } }),
        ConfigKey.OptionalText("well_known.server", c => c.WellKnown.Server, (c, v) => c with { WellKnown = c.WellKnown with { Server = v } }),
    ];

    private static readonly Dictionary<string, ConfigKey> ByPath = All.ToDictionary(k => k.Path);

    private static readonly Dictionary<string, ConfigKey> ByVariable = All.ToDictionary(k => k.EnvironmentVariable);

    /// <summary>Every table path that holds keys: <c>well_known</c>, <c>rate_limits</c>, <c>rate_limits.login</c>, ...</summary>
    private static readonly HashSet<string> Tables =
    [
        .. All.SelectMany(k =>
        {
            var parts = k.Path.Split('.');
            return Enumerable.Range(1, parts.Length - 1).Select(n => string.Join('.', parts.Take(n)));
        }),
    ];

    public static ConfigKey? Find(string path) => ByPath.GetValueOrDefault(path);

    public static ConfigKey? FindVariable(string name) => ByVariable.GetValueOrDefault(name);

    public static bool IsTable(string path) => Tables.Contains(path);
}
