using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation.Discovery;

/// <summary>
/// SRV lookups through DnsClient (the BCL resolves only A/AAAA). The record with the lowest priority
/// wins, the highest weight among equals; a target of "." means the service is explicitly absent.
/// A DNS failure counts as no record, so discovery falls through to port 8448 as the spec says.
/// </summary>
public sealed class DnsSrvLookup(ILookupClient dns, ILogger<DnsSrvLookup> logger) : ISrvLookup
{
    public async Task<SrvTarget?> LookupAsync(string name, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await dns.QueryAsync(name, QueryType.SRV, QueryClass.IN, cancellationToken);
        }
        catch (DnsResponseException e)
        {
            logger.LogDebug("SRV lookup of {Name} failed: {Error}", name, e.Message);
            return null;
        }
        if (response.HasError)
            return null;

        var best = response.Answers.SrvRecords()
            .OrderBy(r => r.Priority)
            .ThenByDescending(r => r.Weight)
            .FirstOrDefault();
        var target = best?.Target.Value.TrimEnd('.');
        return best is null || string.IsNullOrEmpty(target) ? null : new SrvTarget(target, best.Port);
    }
}
