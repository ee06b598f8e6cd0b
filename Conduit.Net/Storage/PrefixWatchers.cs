namespace Conduit.Net.Storage;

/// <summary>
/// Pending <see cref="KvStore.WatchPrefix"/> calls, indexed by tree, prefix length and prefix, so a
/// commit finds the watchers of a key with one dictionary probe per distinct watched prefix length
/// instead of testing every watcher.
/// </summary>
internal sealed class PrefixWatchers
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Dictionary<int, Dictionary<byte[], List<Watch>>>> _trees = [];
    private int _count;
    private bool _closed;

    /// <summary>Watches still pending; for tests that cancellation leaves nothing behind.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _count;
        }
    }

    public Task Add(string tree, byte[] prefix, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);

        var watch = new Watch(this, tree, (byte[])prefix.Clone());
        lock (_gate)
        {
            if (_closed)
                return Task.FromException(new ObjectDisposedException(nameof(KvStore)));
            if (!_trees.TryGetValue(tree, out var byLength))
                _trees[tree] = byLength = [];
            if (!byLength.TryGetValue(watch.Prefix.Length, out var byPrefix))
                byLength[watch.Prefix.Length] = byPrefix = new Dictionary<byte[], List<Watch>>(ByteArrayComparer.Instance);
            if (!byPrefix.TryGetValue(watch.Prefix, out var list))
                byPrefix[watch.Prefix] = list = [];
            list.Add(watch);
            _count++;
        }

        // Registered after the watch is in place: a token cancelled in between runs the callback
        // right here, which removes it again.
        if (cancellationToken.CanBeCanceled)
            watch.SetRegistration(cancellationToken.UnsafeRegister(static (state, token) => ((Watch)state!).Cancel(token), watch));
        return watch.Completion.Task;
    }

    /// <summary>Completes every watch whose prefix starts one of the written keys.</summary>
    public void Wake(IEnumerable<(string Tree, byte[] Key)> writes)
    {
        List<Watch>? woken = null;
        lock (_gate)
        {
            if (_count == 0)
                return;
            foreach (var (tree, key) in writes)
            {
                if (!_trees.TryGetValue(tree, out var byLength))
                    continue;
                foreach (var (length, byPrefix) in byLength)
                {
                    if (length > key.Length)
                        continue;
                    var lookup = byPrefix.GetAlternateLookup<ReadOnlySpan<byte>>();
                    if (!lookup.TryGetValue(key.AsSpan(0, length), out var list))
                        continue;
                    woken ??= [];
                    woken.AddRange(list);
                    _count -= list.Count;
                    byPrefix.Remove(list[0].Prefix);
                }
                RemoveEmptyLengths(byLength);
                if (byLength.Count == 0)
                    _trees.Remove(tree);
            }
        }
        if (woken is null)
            return;
        foreach (var watch in woken)
            watch.Complete();
    }

    /// <summary>Fails every pending watch: the store is closing.</summary>
    public void Close()
    {
        List<Watch> pending;
        lock (_gate)
        {
            _closed = true;
            pending = [.. _trees.Values.SelectMany(t => t.Values).SelectMany(p => p.Values).SelectMany(l => l)];
            _trees.Clear();
            _count = 0;
        }
        foreach (var watch in pending)
            watch.Fail(new ObjectDisposedException(nameof(KvStore)));
    }

    private bool Remove(Watch watch)
    {
        lock (_gate)
        {
            if (!_trees.TryGetValue(watch.Tree, out var byLength)
                || !byLength.TryGetValue(watch.Prefix.Length, out var byPrefix)
                || !byPrefix.TryGetValue(watch.Prefix, out var list)
                || !list.Remove(watch))
                return false;
            _count--;
            if (list.Count == 0)
                byPrefix.Remove(watch.Prefix);
            RemoveEmptyLengths(byLength);
            if (byLength.Count == 0)
                _trees.Remove(watch.Tree);
            return true;
        }
    }

    private static void RemoveEmptyLengths(Dictionary<int, Dictionary<byte[], List<Watch>>> byLength)
    {
        foreach (var (length, byPrefix) in byLength)
        {
            if (byPrefix.Count == 0)
                byLength.Remove(length);
        }
    }

    private sealed class Watch(PrefixWatchers owner, string tree, byte[] prefix)
    {
        private readonly object _sync = new();
        private CancellationTokenRegistration _registration;
        private bool _finished;

        public string Tree { get; } = tree;

        public byte[] Prefix { get; } = prefix;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void SetRegistration(CancellationTokenRegistration registration)
        {
            lock (_sync)
            {
                // Woken before the registration was stored: nobody else will drop it.
                if (_finished)
                    registration.Unregister();
                else
                    _registration = registration;
            }
        }

        public void Cancel(CancellationToken token)
        {
            if (owner.Remove(this))
                Completion.TrySetCanceled(token);
        }

        public void Complete()
        {
            Completion.TrySetResult();
            DropRegistration();
        }

        public void Fail(Exception exception)
        {
            Completion.TrySetException(exception);
            DropRegistration();
        }

        // Unregister, not Dispose: Dispose would wait for a cancellation callback in flight, which
        // may be waiting for the watchers' lock.
        private void DropRegistration()
        {
            lock (_sync)
            {
                _finished = true;
                _registration.Unregister();
            }
        }
    }
}
