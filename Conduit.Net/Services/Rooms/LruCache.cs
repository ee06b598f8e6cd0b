namespace Conduit.Net.Services.Rooms;

/// <summary>
/// A thread-safe least-recently-used cache bounded by total weight (entries of a state set, events,
/// rooms: whatever the owner counts), so that hot data stays in memory without growing with the
/// data directory.
/// </summary>
public sealed class LruCache<TKey, TValue>
    where TKey : notnull
{
    private readonly long _capacity;
    private readonly Func<TValue, long> _weigh;
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _map = [];
    private readonly LinkedList<Entry> _order = new();
    private readonly Lock _gate = new();
    private long _weight;

    /// <param name="capacity">The largest total weight kept.</param>
    /// <param name="weigh">The weight of one value (at least 1 is counted); null counts every value as 1.</param>
    public LruCache(long capacity, Func<TValue, long>? weigh = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _weigh = weigh ?? (_ => 1);
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _map.Count;
        }
    }

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    /// <summary>Adds or replaces the value, then evicts the least recently used entries over the capacity.</summary>
    public void Set(TKey key, TValue value)
    {
        var weight = Math.Max(1, _weigh(value));
        lock (_gate)
        {
            if (_map.Remove(key, out var old))
            {
                _order.Remove(old);
                _weight -= old.Value.Weight;
            }
            _map[key] = _order.AddFirst(new Entry(key, value, weight));
            _weight += weight;

            // The newest entry stays even when it alone is over the capacity: the caller is using it.
            while (_weight > _capacity && _order.Last is { } last && last != _order.First)
            {
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                _weight -= last.Value.Weight;
            }
        }
    }

    public void Remove(TKey key)
    {
        lock (_gate)
        {
            if (_map.Remove(key, out var node))
            {
                _order.Remove(node);
                _weight -= node.Value.Weight;
            }
        }
    }

    private readonly record struct Entry(TKey Key, TValue Value, long Weight);
}
