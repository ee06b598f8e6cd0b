using System.Collections.Concurrent;

namespace Conduit.Net.Core.Push;

/// <summary>
/// Compiled forms keyed by their source text. Patterns and keys come from user-defined rules, so
/// the cache empties itself when it grows past its capacity instead of growing without bound; the
/// working set (the default rules and a few per user) refills it at once.
/// </summary>
internal sealed class BoundedCache<TValue>(int capacity, Func<string, TValue> compile)
{
    private readonly ConcurrentDictionary<string, TValue> entries = new(StringComparer.Ordinal);

    public TValue Get(string key)
    {
        if (entries.TryGetValue(key, out var value))
            return value;
        if (entries.Count >= capacity)
            entries.Clear();
        return entries.GetOrAdd(key, compile);
    }
}
