namespace Conduit.Net.Services.Ephemeral;

/// <summary>
/// Due times by key on one timer: the timer is armed for the earliest due time only, and when it
/// fires, every key that is due is handed to the callback at once. Nothing polls; a key that is
/// set again moves, and a removed key never fires.
/// </summary>
/// <remarks>
/// The callback runs on a timer thread, outside the lock, and may set or remove keys itself. An
/// exception it throws goes to the error callback (an unhandled one would end the process).
/// Time comes from a <see cref="TimeProvider"/> so that tests can move it.
/// </remarks>
internal sealed class Deadlines<TKey> : IDisposable
    where TKey : notnull
{
    /// <summary>Timers take at most about 49 days; a farther due time is approached in steps.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly Action<IReadOnlyList<TKey>> _onDue;
    private readonly Action<Exception> _onError;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private readonly SortedSet<(DateTimeOffset Due, long Sequence)> _order = [];
    private readonly Dictionary<(DateTimeOffset Due, long Sequence), TKey> _keysByEntry = [];
    private readonly Dictionary<TKey, (DateTimeOffset Due, long Sequence)> _entriesByKey;
    private long _sequence;
    private DateTimeOffset? _armedFor;
    private bool _disposed;

    public Deadlines(TimeProvider time, Action<IReadOnlyList<TKey>> onDue, Action<Exception> onError, IEqualityComparer<TKey>? comparer = null)
    {
        _time = time;
        _onDue = onDue;
        _onError = onError;
        _entriesByKey = new Dictionary<TKey, (DateTimeOffset, long)>(comparer);
        _timer = time.CreateTimer(static state => ((Deadlines<TKey>)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Keys waiting to fall due; for tests that nothing is left behind.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _entriesByKey.Count;
        }
    }

    /// <summary>Makes <paramref name="key"/> fall due at <paramref name="due"/>, replacing an earlier setting.</summary>
    public void Set(TKey key, DateTimeOffset due)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            RemoveLocked(key);
            var entry = (due, ++_sequence);
            _order.Add(entry);
            _keysByEntry[entry] = key;
            _entriesByKey[key] = entry;
            ArmLocked();
        }
    }

    public void Remove(TKey key)
    {
        lock (_gate)
        {
            RemoveLocked(key);
            ArmLocked();
        }
    }

    private void Fire()
    {
        List<TKey> due = [];
        lock (_gate)
        {
            _armedFor = null;
            var now = _time.GetUtcNow();
            while (_order.Count > 0 && _order.Min.Due <= now)
            {
                var entry = _order.Min;
                _order.Remove(entry);
                var key = _keysByEntry[entry];
                _keysByEntry.Remove(entry);
                _entriesByKey.Remove(key);
                due.Add(key);
            }
            ArmLocked();
        }
        if (due.Count == 0)
            return;
        try
        {
            _onDue(due);
        }
        catch (Exception e)
        {
            _onError(e);
        }
    }

    private void RemoveLocked(TKey key)
    {
        if (!_entriesByKey.Remove(key, out var entry))
            return;
        _order.Remove(entry);
        _keysByEntry.Remove(entry);
    }

    /// <summary>Points the timer at the earliest due time, unless it already points there.</summary>
    private void ArmLocked()
    {
        if (_disposed)
            return;
        if (_order.Count == 0)
        {
            if (_armedFor is not null)
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _armedFor = null;
            return;
        }
        var first = _order.Min.Due;
        if (_armedFor == first)
            return;
        _armedFor = first;
        var delay = first - _time.GetUtcNow();
        _timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxDelay ? MaxDelay : delay, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _order.Clear();
            _keysByEntry.Clear();
            _entriesByKey.Clear();
        }
        _timer.Dispose();
    }
}
