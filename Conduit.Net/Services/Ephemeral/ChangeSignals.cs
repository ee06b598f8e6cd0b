namespace Conduit.Net.Services.Ephemeral;

/// <summary>
/// In-memory wake-ups by key (a room id, a user id) for the streams that live in memory, the
/// counterpart of <c>KvStore.WatchPrefix</c>: a waiter names its keys and wakes at the first
/// <see cref="Signal"/> of any of them after it started waiting.
/// </summary>
/// <remarks>
/// Each wait is one task, registered under each of its keys and removed from all of them when it
/// wakes or is cancelled, so waits that never wake leave nothing behind once their token is
/// cancelled.
/// </remarks>
internal sealed class ChangeSignals
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Waiter>> _waiters = new(StringComparer.Ordinal);

    /// <summary>Waits still registered; for tests that cancellation leaves nothing behind.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _waiters.Values.Sum(list => list.Count);
        }
    }

    /// <summary>Completes at the first signal of one of <paramref name="keys"/> after this call; cancelled with the token.</summary>
    public Task Wait(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        var waiter = new Waiter([.. keys.Distinct(StringComparer.Ordinal)]);
        lock (_gate)
        {
            foreach (var key in waiter.Keys)
            {
                if (!_waiters.TryGetValue(key, out var list))
                    _waiters[key] = list = [];
                list.Add(waiter);
            }
        }

        // Registered after the waiter is in place: a token cancelled in between runs the callback here.
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (signals, w) = ((ChangeSignals, Waiter))state!;
                signals.Detach(w);
                w.Completion.TrySetCanceled(token);
            }, (this, waiter));
        }
        return waiter.Completion.Task;
    }

    /// <summary>Wakes every wait on <paramref name="key"/>.</summary>
    public void Signal(string key)
    {
        List<Waiter>? woken;
        lock (_gate)
        {
            if (!_waiters.Remove(key, out woken))
                return;
            foreach (var waiter in woken)
                DetachLocked(waiter, except: key);
        }
        foreach (var waiter in woken)
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetResult();
        }
    }

    private void Detach(Waiter waiter)
    {
        lock (_gate)
            DetachLocked(waiter, except: null);
    }

    private void DetachLocked(Waiter waiter, string? except)
    {
        foreach (var key in waiter.Keys)
        {
            if (key == except || !_waiters.TryGetValue(key, out var list))
                continue;
            list.Remove(waiter);
            if (list.Count == 0)
                _waiters.Remove(key);
        }
    }

    private sealed class Waiter(string[] keys)
    {
        public string[] Keys { get; } = keys;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
