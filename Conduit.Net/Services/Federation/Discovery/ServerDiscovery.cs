using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Federation.Discovery;

/// <summary>
/// Where to send a request for a server name: the host to look up and connect to, the port, and the
/// <c>Host</c> header. The TLS server name (SNI and the name the certificate must carry) is the host
/// part of the <c>Host</c> header in every step of the spec, which is also what the HTTP stack derives
/// from that header.
/// </summary>
public sealed record ResolvedServer(string ConnectHost, int Port, string HostHeader);

/// <summary>An SRV record's target and port.</summary>
public sealed record SrvTarget(string Host, int Port);

/// <summary>SRV lookups; the real one asks DNS, the tests give fixed answers.</summary>
public interface ISrvLookup
{
    /// <summary>The preferred target of <paramref name="name"/> (e.g. <c>_matrix-fed._tcp.example.org</c>), or null when there is none.</summary>
    Task<SrvTarget?> LookupAsync(string name, CancellationToken cancellationToken);
}

/// <summary><c>/.well-known/matrix/server</c> lookups, cached by the real implementation.</summary>
public interface IWellKnownSource
{
    /// <summary>The delegated server name (<c>m.server</c>) of <paramref name="hostname"/>, or null when it has none or it is invalid.</summary>
    Task<string?> DelegatedServerAsync(string hostname, CancellationToken cancellationToken);
}

/// <summary>
/// Server discovery (server-server API "Resolving server names"), step by step: an IP literal or an
/// explicit port is used as is; otherwise <c>/.well-known/matrix/server</c> may delegate; otherwise SRV
/// <c>_matrix-fed._tcp</c> then the deprecated <c>_matrix._tcp</c>; otherwise port 8448. The name
/// after delegation goes through the same steps except well-known.
/// </summary>
public sealed class ServerDiscovery(IWellKnownSource wellKnown, ISrvLookup srv)
{
    public const int DefaultPort = 8448;

    public async Task<ResolvedServer> ResolveAsync(string serverName, CancellationToken cancellationToken)
    {
        var name = ServerName.TryParse(serverName, out var parsed)
            ? parsed
            : throw new ArgumentException($"\"{serverName}\" is not a server name.", nameof(serverName));

        // Steps 1 and 2: an IP literal or an explicit port needs no lookup beyond A/AAAA.
        if (name.IsIpLiteral || name.Port is not null)
            return new ResolvedServer(name.Host, name.Port ?? DefaultPort, name.Value);

        // Step 3: delegation through well-known; the delegated name is resolved without a second well-known.
        if (await wellKnown.DelegatedServerAsync(name.Host, cancellationToken) is { } delegatedText
            && ServerName.TryParse(delegatedText, out var delegated))
        {
            if (delegated.IsIpLiteral || delegated.Port is not null)
                return new ResolvedServer(delegated.Host, delegated.Port ?? DefaultPort, delegated.Value);
            return await ResolveBySrvAsync(delegated.Host, cancellationToken);
        }

        // Steps 4 and 5: SRV for the name itself, then port 8448; the certificate is for the name.
        return await ResolveBySrvAsync(name.Host, cancellationToken);
    }

    private async Task<ResolvedServer> ResolveBySrvAsync(string hostname, CancellationToken cancellationToken)
    {
        var target = await srv.LookupAsync("_matrix-fed._tcp." + hostname, cancellationToken)
            ?? await srv.LookupAsync("_matrix._tcp." + hostname, cancellationToken);
        return target is null
            ? new ResolvedServer(hostname, DefaultPort, hostname)
            : new ResolvedServer(target.Host, target.Port, hostname);
    }
}
