using System.Collections.Concurrent;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Http;

/// <summary>The limits a route can be under, each configured in <c>[global.rate_limits]</c>.</summary>
public enum RateLimitKind
{
    Login,
    Register,
}

/// <summary>
/// Per-client-IP token buckets for the unauthenticated endpoints that invite guessing (login,
/// registration). Over the limit is 429 <c>M_LIMIT_EXCEEDED</c> with <c>retry_after_ms</c>.
/// <c>rate_limiting = false</c> switches every limit off. Memory stays bounded: buckets that have
/// refilled are forgotten once there are many.
/// </summary>
public sealed class RateLimiter(ServerConfig config, TimeProvider time)
{
    private const int MaxBuckets = 10_000;

    private readonly ConcurrentDictionary<(RateLimitKind Kind, string Client), Bucket> _buckets = new();

    /// <summary>Takes one request from the client's bucket; throws 429 when it is empty.</summary>
    public void Acquire(RateLimitKind kind, string client)
    {
        if (!config.RateLimiting)
            return;
        var limit = kind == RateLimitKind.Login ? config.RateLimits.Login : config.RateLimits.Register;
        var perMs = limit.PerMinute / 60_000.0;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_buckets.Count >= MaxBuckets)
            Prune(now);
        var bucket = _buckets.GetOrAdd((kind, client), _ => new Bucket(limit.Burst, now));
        lock (bucket)
        {
            bucket.Tokens = Math.Min(limit.Burst, bucket.Tokens + ((now - bucket.UpdatedMs) * perMs));
            bucket.UpdatedMs = now;
            var allowed = bucket.Tokens >= 1;
            if (allowed)
                bucket.Tokens -= 1;
            bucket.FullAtMs = now + (long)Math.Ceiling((limit.Burst - bucket.Tokens) / perMs);
            if (!allowed)
                throw MatrixException.LimitExceeded((long)Math.Ceiling((1 - bucket.Tokens) / perMs));
        }
    }

    private void Prune(long now)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if (Interlocked.Read(ref bucket.FullAtMs) <= now)
                _buckets.TryRemove(key, out _);
        }
        // Every bucket is busy: forgetting them all is the price of a hard memory bound.
        if (_buckets.Count >= MaxBuckets)
            _buckets.Clear();
    }

    private sealed class Bucket(double tokens, long updatedMs)
    {
        public double Tokens = tokens;
        public long UpdatedMs = updatedMs;
        public long FullAtMs = updatedMs;
    }
}

/// <summary>Wires <see cref="RateLimiter"/> to routes through endpoint metadata.</summary>
public static class RateLimiting
{
    /// <summary>Marks a route as limited per client IP by <paramref name="kind"/>.</summary>
    public static TBuilder RateLimited<TBuilder>(this TBuilder builder, RateLimitKind kind) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RateLimitedEndpoint(kind));

    /// <summary>Runs after routing, so that it sees which endpoint matched.</summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<RateLimitedEndpoint>() is { } limited)
            http.RequestServices.GetRequiredService<RateLimiter>().Acquire(limited.Kind, http.ClientIp() ?? "unknown");
        return next(http);
    });

    private sealed record RateLimitedEndpoint(RateLimitKind Kind);
}
