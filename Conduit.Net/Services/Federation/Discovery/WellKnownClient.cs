using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation.Discovery;

/// <summary>
/// <c>GET https://&lt;hostname&gt;/.well-known/matrix/server</c> with the spec's caching: the response's
/// Cache-Control max-age (or Expires) when present, 24 hours otherwise, never more than 48 hours;
/// failures (no answer, non-200, bad JSON, no valid <c>m.server</c>) are cached for an hour. Redirects
/// are followed by hand, at most five and never back to a URL already visited.
/// </summary>
public sealed class WellKnownClient(FederationHttp http, TimeProvider time, ILogger<WellKnownClient> logger) : IWellKnownSource
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(48);
    public static readonly TimeSpan ErrorLifetime = TimeSpan.FromHours(1);

    private const int MaxRedirects = 5;
    private const int MaxBodyBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, (string? Server, DateTimeOffset Expires)> _cache = new();

    public async Task<string?> DelegatedServerAsync(string hostname, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(hostname, out var cached) && cached.Expires > now)
            return cached.Server;

        var (server, lifetime) = await FetchAsync(hostname, cancellationToken);
        _cache[hostname] = (server, now + lifetime);
        return server;
    }

    /// <summary>How long a successful response is kept, from its caching headers.</summary>
    public static TimeSpan SuccessLifetime(CacheControlHeaderValue? cacheControl, DateTimeOffset? expires, DateTimeOffset now)
    {
        TimeSpan? lifetime = cacheControl switch
        {
            { NoStore: true } or { NoCache: true } => TimeSpan.Zero,
            { MaxAge: { } maxAge } => maxAge,
            _ => expires is { } at ? at - now : null,
        };
        if (lifetime is null)
            return DefaultLifetime;
        return lifetime.Value < TimeSpan.Zero ? TimeSpan.Zero : lifetime.Value > MaxLifetime ? MaxLifetime : lifetime.Value;
    }

    private async Task<(string? Server, TimeSpan Lifetime)> FetchAsync(string hostname, CancellationToken cancellationToken)
    {
        var uri = new Uri($"https://{hostname}/.well-known/matrix/server");
        var visited = new HashSet<Uri>();
        try
        {
            for (var hop = 0; hop <= MaxRedirects && visited.Add(uri); hop++)
            {
                using var response = await http.Client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    continue;
                }
                if (response.StatusCode != HttpStatusCode.OK)
                    return (null, ErrorLifetime);

                var body = await FederationHttp.ReadLimitedAsync(response.Content, MaxBodyBytes, cancellationToken);
                var server = JsonNode.Parse(body)?["m.server"] is JsonValue value && value.TryGetValue<string>(out var text)
                    && Core.Identifiers.ServerName.TryParse(text, out _)
                    ? text
                    : null;
                return server is null
                    ? (null, ErrorLifetime)
                    : (server, SuccessLifetime(response.Headers.CacheControl, response.Content.Headers.Expires, time.GetUtcNow()));
            }
            return (null, ErrorLifetime);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or InvalidOperationException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogDebug("No well-known delegation for {Hostname}: {Error}", hostname, e.Message);
            return (null, ErrorLifetime);
        }
    }
}
