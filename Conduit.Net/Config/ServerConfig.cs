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

    /// <summary>When set, the client listener serves TLS with this certificate (<c>[global.tls]</c>).</summary>
    public TlsConfig Tls { get; init; } = new();

    /// <summary>
    /// Whether a second, TLS-only listener serves the federation API on <see cref="FederationPort"/>, with the
    /// <see cref="Tls"/> certificate or, for development, a self-signed one.
    /// </summary>
    public bool FederationListener { get; init; }

    public int FederationPort { get; init; } = 8448;

    /// <summary>PEM files of certificate authorities trusted for federation in addition to the system store.</summary>
    public IReadOnlyList<string> FederationCustomCaList { get; init; } = [];

    public bool FederationVerifyCertificates { get; init; } = true;

    /// <summary>
    /// CIDR ranges outbound federation never connects to, checked after DNS so that a name pointing into
    /// a private network is refused too: loopback, private, link-local, CGNAT, documentation, multicast and
    /// unique-local IPv6, as Synapse blocks. An empty list allows every address (test and private deployments).
    /// </summary>
    public IReadOnlyList<string> FederationIpRangeBlacklist { get; init; } =
    [
        "127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "::1/128", "fe80::/10", "fc00::/7",
        "2001:db8::/32", "ff00::/8", "fec0::/10",
    ];

    /// <summary>The only servers federation talks with, both ways; empty means every server.</summary>
    public IReadOnlyList<string> FederationDomainWhitelist { get; init; } = [];
    public string DefaultRoomVersion { get; init; } = "12";

    /// <summary>Whether clients may create <c>m.room.encryption</c> state; false refuses it with 403 <c>M_FORBIDDEN</c>.</summary>
    public bool AllowEncryption { get; init; } = true;
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

/// <summary>The certificate the listeners serve (<c>[global.tls]</c>); both unset means plain HTTP.</summary>
public sealed record TlsConfig
{
    /// <summary>PEM file with the certificate, then any intermediates of its chain.</summary>
    public string? Certs { get; init; }

    /// <summary>PEM file with the certificate's private key.</summary>
    public string? Key { get; init; }
}

/// <summary>How hard the store works to keep acknowledged writes across a crash or power loss.</summary>
public enum Durability
{
    /// <summary>Every acknowledged write is fsynced before the response (group commit shares the flush).</summary>
    Safe,

    /// <summary>Writes reach the OS page cache only: survives a process crash; a power loss can lose recent writes and damage the database.</summary>
    Fast,
}
