using System.Diagnostics.CodeAnalysis;
using System.Net;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Config;

/// <summary>The checks that span values or need more than a type: names, addresses, the open-registration guard.</summary>
internal static class ConfigValidator
{
    public static void Validate(ServerConfig config)
    {
        if (!IsServerName(config.ServerName))
            throw Invalid("server_name", $"{ConfigKey.Quote(config.ServerName)} is not a valid server name (a DNS name or IP literal, optionally with :port)");
        if (string.IsNullOrWhiteSpace(config.DatabasePath))
            throw Invalid("database_path", "must name a directory");
        if (!TryParseAddress(config.Address, out var address))
            throw Invalid("address", $"{ConfigKey.Quote(config.Address)} is not an IP address (use 127.0.0.1 for this machine only, 0.0.0.0 or :: for every interface)");
        foreach (var server in config.TrustedServers)
        {
            if (!IsServerName(server))
                throw Invalid("trusted_servers", $"{ConfigKey.Quote(server)} is not a valid server name");
        }
        foreach (var server in config.FederationDomainWhitelist)
        {
            if (!IsServerName(server))
                throw Invalid("federation_domain_whitelist", $"{ConfigKey.Quote(server)} is not a valid server name");
        }
        foreach (var range in config.FederationIpRangeBlacklist)
        {
            if (!IPNetwork.TryParse(range, out _))
                throw Invalid("federation_ip_range_blacklist", $"{ConfigKey.Quote(range)} is not a CIDR range such as 10.0.0.0/8 or fc00::/7");
        }
        if ((config.Tls.Certs is null) != (config.Tls.Key is null))
            throw Invalid(config.Tls.Certs is null ? "tls.certs" : "tls.key", "tls.certs and tls.key are set together or not at all");
        if (config.WellKnown.Client is { } client
            && !(Uri.TryCreate(client, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
            throw Invalid("well_known.client", $"{ConfigKey.Quote(client)} is not an absolute http(s) URL");
        if (config.WellKnown.Server is { } delegated && !IsServerName(delegated))
            throw Invalid("well_known.server", $"{ConfigKey.Quote(delegated)} is not a host[:port]");

        // Anyone who can reach a public address could fill an open server with spam accounts, so
        // that needs a token or an explicit, loudly named opt-in; on loopback only this machine can register.
        if (config.AllowRegistration && config.RegistrationToken is null && !IPAddress.IsLoopback(address) && !config.OpenRegistrationAcknowledged)
        {
            throw new ConfigException(
                $"global.allow_registration: registration is open to anyone (no registration_token) on {config.Address}, which is not loopback: "
                + $"set registration_token, or allow_registration = false, or {ConfigKeys.OpenRegistrationOptIn} = true");
        }
    }

    /// <summary>
    /// An IPv6 literal or a dotted quad. IPAddress.TryParse alone also takes inet_aton shorthands
    /// ("1.2.3" is 1.2.0.3), which would bind somewhere the admin did not mean.
    /// </summary>
    private static bool TryParseAddress(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        var isDottedQuad = text.Split('.') is { Length: 4 } octets
            && octets.All(o => o.Length is >= 1 and <= 3 && o.All(char.IsAsciiDigit) && int.Parse(o) <= 255);
        return (isDottedQuad || text.Contains(':', StringComparison.Ordinal)) && IPAddress.TryParse(text, out address);
    }

    private static bool IsServerName(string name) => ServerName.TryParse(name, out _);

    private static ConfigException Invalid(string path, string problem) => new($"global.{path}: {problem}");
}
