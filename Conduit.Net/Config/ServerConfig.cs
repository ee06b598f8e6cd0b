using Microsoft.Extensions.Logging;

namespace Conduit.Net.Config;

/// <summary>
/// Every setting under <c>[global]</c>, with the embedded defaults a developer gets when there is no
/// config file at all. <see cref="ConfigKeys"/> maps each property to its snake_case key.
/// </summary>
public sealed record ServerConfig
{
    public string ServerName { get; init; } = "localhost";
    public string DatabasePath { get; init; } = "./conduit-data";
    public string Address { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 6167;
    public long MaxRequestSize { get; init; } = 20_000_000;
    public bool AllowRegistration { get; init; } = true;
    public string? RegistrationToken { get; init; }
    public string? RegistrationSharedSecret { get; init; }

    /// <summary>
    /// The explicit opt-in that lets open registration (no token) run on a non-loopback address;
    /// without it such a config refuses to start.
    /// </summary>
    public bool OpenRegistrationAcknowledged { get; init; }

    public bool AllowFederation { get; init; } = true;
    public IReadOnlyList<string> TrustedServers { get; init; } = ["matrix.org"];
    public string DefaultRoomVersion { get; init; } = "12";
    public LogLevel Log { get; init; } = LogLevel.Information;
    public bool RateLimiting { get; init; } = true;
    public RateLimitsConfig RateLimits { get; init; } = new();
    public Durability Durability { get; init; } = Durability.Safe;
    public WellKnownConfig WellKnown { get; init; } = new();

    /// <summary>
    /// How long an access token lives when the client asked for a refresh token at login or registration.
    /// Clients without refresh support get tokens that never expire.
    /// </summary>
    public long RefreshableAccessTokenLifetimeMs { get; init; } = 300_000;
}

/// <summary>Per-IP limits on the unauthenticated endpoints that attackers hammer (<c>[global.rate_limits]</c>).</summary>
public sealed record RateLimitsConfig
{
    public RateLimit Login { get; init; } = new() { PerMinute = 30, Burst = 10 };
    public RateLimit Register { get; init; } = new() { PerMinute = 10, Burst = 5 };
}

/// <summary>A token bucket: <see cref="Burst"/> requests at once, refilled at <see cref="PerMinute"/>.</summary>
public sealed record RateLimit
{
    public int PerMinute { get; init; }
    public int Burst { get; init; }
}

/// <summary>What <c>/.well-known/matrix/client</c> and <c>/server</c> answer (<c>[global.well_known]</c>); unset means not served.</summary>
public sealed record WellKnownConfig
{
    /// <summary>The client base URL, e.g. <c>https://matrix.example.org</c>.</summary>
    public string? Client { get; init; }

    /// <summary>The federation delegation target, e.g. <c>matrix.example.org:443</c>.</summary>
    public string? Server { get; init; }
}

/// <summary>How hard the store works to keep acknowledged writes across a crash or power loss.</summary>
public enum Durability
{
    /// <summary>Every acknowledged write is fsynced before the response (group commit shares the flush).</summary>
    Safe,

    /// <summary>Writes reach the OS page cache only: survives a process crash; a power loss can lose recent writes and damage the database.</summary>
    Fast,
}
