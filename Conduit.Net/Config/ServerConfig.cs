namespace Conduit.Net.Config;

/// <summary>
/// Every setting under <c>[global]</c>, with the embedded defaults a developer gets when there is no
/// config file at all. Property names map to Conduit's snake_case keys.
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
    public bool AllowFederation { get; init; } = true;
    public IReadOnlyList<string> TrustedServers { get; init; } = ["matrix.org"];
    public string DefaultRoomVersion { get; init; } = "12";
    public string Log { get; init; } = "info";
    public bool RateLimiting { get; init; } = true;
    public Durability Durability { get; init; } = Durability.Safe;
}

/// <summary>How hard the store works to keep acknowledged writes across a crash or power loss.</summary>
public enum Durability
{
    /// <summary>Every acknowledged write is fsynced before the response (group commit shares the flush).</summary>
    Safe,

    /// <summary>Writes reach the OS page cache only: survives a process crash, not a power loss.</summary>
    Fast,
}
