using System.Net;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// Which servers and addresses federation may talk with: <c>allow_federation</c>, the domain whitelist
/// (both ways) and the IP range blacklist (outbound, after DNS).
/// </summary>
public sealed class FederationPolicy
{
    private readonly HashSet<string> _whitelist;
    private readonly IPNetwork[] _blacklist;

    public FederationPolicy(ServerConfig config)
    {
        IsEnabled = config.AllowFederation;
        _whitelist = [.. config.FederationDomainWhitelist];
        _blacklist = [.. config.FederationIpRangeBlacklist.Select(range => IPNetwork.Parse(range))];
    }

    public bool IsEnabled { get; }

    /// <summary>Whether federation with <paramref name="serverName"/> is allowed at all.</summary>
    public bool Allows(string serverName) => IsEnabled && (_whitelist.Count == 0 || _whitelist.Contains(serverName));

    /// <exception cref="MatrixException">403 <c>M_FORBIDDEN</c> when federation with the server is not allowed.</exception>
    public void EnsureAllowed(string serverName)
    {
        if (!IsEnabled)
            throw MatrixException.Forbidden("Federation is disabled on this server.");
        if (!Allows(serverName))
            throw MatrixException.Forbidden($"Federation with {serverName} is not allowed by this server's whitelist.");
    }

    /// <summary>Whether outbound connections to <paramref name="address"/> are refused; IPv4 inside IPv6 counts as IPv4.</summary>
    public bool IsBlocked(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var range in _blacklist)
        {
            if (range.Contains(plain))
                return true;
        }
        return false;
    }
}
