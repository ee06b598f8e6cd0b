using System.Collections.Concurrent;
using LiteDB;

namespace Conduit.Net.Storage;

/// <summary>
/// The ordered key-value store of DESIGN.md on one LiteDB file: named trees, atomic write batches,
/// one global monotonic counter and prefix watchers.
/// </summary>
public sealed class KvStore : IDisposable
{
    private static readonly byte[] CounterKey = KeyCodec.Utf8("counter");

    private readonly LiteDatabase _db;
    private readonly ConcurrentDictionary<string, KvTree> _trees = new();
    private readonly object _commitLock = new();
    private readonly List<Watcher> _watchers = [];
    private readonly KvTree _global;
    private ulong _counter;

    private KvStore(LiteDatabase db)
    {
        _db = db;
        _global = Tree("global");
        var stored = _global.Get(CounterKey);
        _counter = stored is null ? 0 : KeyCodec.ReadU64(stored);
    }

    public static KvStore Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var db = new LiteDatabase(new ConnectionString
        {
            Filename = Path.Combine(directory, "conduit.db"),
            Connection = ConnectionType.Direct,
        });
        return new KvStore(db);
    }

    /// <summary>The tree with this name, created on first use.</summary>
    public KvTree Tree(string name) =>
        _trees.GetOrAdd(name, n => new KvTree(this, n, _db.GetCollection(n)));

    /// <summary>The last value handed out by <see cref="NextCount"/>.</summary>
    public ulong CurrentCount => Interlocked.Read(ref _counter);

    /// <summary>
    /// Takes the next value of the global counter and records it in <paramref name="batch"/>, so it
    /// persists exactly when the writes that use it do.
    /// </summary>
    public ulong NextCount(WriteBatch batch)
    {
        var next = Interlocked.Increment(ref _counter);
        batch.Put(_global, CounterKey, KeyCodec.U64(next));
        return next;
    }

    /// <summary>Commits every write of the batch in one transaction, then wakes matching watchers.</summary>
    public void Commit(WriteBatch batch)
    {
        if (batch.IsEmpty)
            return;
        lock (_commitLock)
        {
            _db.BeginTrans();
            try
            {
                foreach (var (tree, key, value) in batch.Operations)
                {
                    if (value is null)
                        tree.Collection.Delete(new BsonValue(key));
                    else
                        tree.Collection.Upsert(new BsonDocument { ["_id"] = key, [KvTree.ValueField] = value });
                }
                _db.Commit();
            }
            catch
            {
                _db.Rollback();
                throw;
            }
        }
        WakeWatchers(batch);
    }

    /// <summary>Completes when a later commit writes a key under <paramref name="prefix"/> in <paramref name="tree"/>.</summary>
    public Task WatchPrefix(KvTree tree, byte[] prefix, CancellationToken cancellationToken)
    {
        var watcher = new Watcher(tree, prefix);
        lock (_watchers)
            _watchers.Add(watcher);
        cancellationToken.Register(() =>
        {
            lock (_watchers)
                _watchers.Remove(watcher);
            watcher.Completion.TrySetCanceled(cancellationToken);
        });
        return watcher.Completion.Task;
    }

    private void WakeWatchers(WriteBatch batch)
    {
        List<Watcher> woken = [];
        lock (_watchers)
        {
            foreach (var watcher in _watchers)
            {
                foreach (var (tree, key, _) in batch.Operations)
                {
                    if (tree == watcher.Tree && key.AsSpan().StartsWith(watcher.Prefix))
                    {
                        woken.Add(watcher);
                        break;
                    }
                }
            }
            foreach (var watcher in woken)
                _watchers.Remove(watcher);
        }
        foreach (var watcher in woken)
            watcher.Completion.TrySetResult();
    }

    public void Dispose() => _db.Dispose();

    private sealed record Watcher(KvTree Tree, byte[] Prefix)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
