using System.Collections.Concurrent;
using LiteDB;

namespace Conduit.Net.Storage;

/// <summary>
/// The ordered key-value store of DESIGN.md on one LiteDB database: named trees, atomic write
/// batches, durable (group) commits, one global monotonic counter with a committed watermark, and
/// prefix watchers. One process holds a data directory at a time.
/// </summary>
/// <remarks>
/// Commits are serialized: LiteDB binds a transaction to the thread that opened it, so a batch is
/// applied synchronously under one lock, and only the wait for the disk happens outside it (where
/// concurrent commits share one fsync). Reads wait only while a transaction changes pages, never for
/// the disk, and see every commit that returned.
/// </remarks>
public sealed class KvStore : IDisposable
{
    public const string DataFileName = "conduit.db";
    public const string LogFileName = "conduit-log.db";

    private static readonly byte[] CounterKey = KeyCodec.Utf8("counter");
    private static readonly byte[] SchemaVersionKey = KeyCodec.Utf8("schema_version");

    // LiteDB checkpoints by itself once the log passes 1,000 pages, but only when no read is in
    // progress; under steady reads it can keep skipping. Past this size the store insists.
    private const long ForcedCheckpointBytes = 4_000L * 8192;

    private readonly DataDirectoryLock _directoryLock;
    private readonly LogFile _log;
    private readonly DataFile _data;
    private readonly LiteDatabase _db;
    private readonly GroupFlush? _flush;
    private readonly ConcurrentDictionary<string, KvTree> _trees = new();
    private readonly PrefixWatchers _watchers = new();
    private readonly KvTree _global;

    private readonly object _commitLock = new();

    // LiteDB 5.0.21 is not safe for a read that runs while a write transaction changes pages: under
    // concurrent senders FindById threw IndexOutOfRangeException from its query executor (LiteDB
    // issues #1429, #2122, #2146). Reads share this lock; the write transaction holds it alone. The
    // fsync happens after the lock is released, so readers never wait for the disk.
    private readonly ReaderWriterLockSlim _access = new(LockRecursionPolicy.SupportsRecursion);
    private ulong _persistedCount;

    private readonly object _countLock = new();
    private readonly SortedSet<ulong> _uncommittedCounts = [];
    private readonly PriorityQueue<WriteBatch, ulong> _unpublished = new();
    private ulong _issuedCount;
    private ulong _committedCount;

    private readonly object _lifecycle = new();
    private int _activeCommits;
    private bool _disposed;

    private KvStore(DataDirectoryLock directoryLock, LogFile log, DataFile data, LiteDatabase db, StoreDurability durability)
    {
        _directoryLock = directoryLock;
        _log = log;
        _data = data;
        _db = db;
        _flush = durability == StoreDurability.Safe ? new GroupFlush(log.FlushToDisk) : null;
        _global = Tree(Trees.Global);
        var stored = _global.Get(CounterKey);
        _persistedCount = _issuedCount = _committedCount = stored is null ? 0 : KeyCodec.ReadU64(stored);
    }

    /// <summary>
    /// Opens (or creates) the store in <paramref name="directory"/>, locks the directory for this
    /// process and brings its schema up to date.
    /// </summary>
    /// <exception cref="DataDirectoryInUseException">A running server (or another command) holds the directory.</exception>
    /// <exception cref="StoreSchemaException">The data was written by a newer release.</exception>
    public static KvStore Open(string directory, KvStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new KvStoreOptions();
        ValidateMigrations(options.Migrations);
        Directory.CreateDirectory(directory);

        // No fsync of the directory after the files are created: .NET cannot open a directory
        // handle, and on ext4, XFS and btrfs the fsync of a new file also persists its name.
        var directoryLock = DataDirectoryLock.Acquire(directory);
        LogFile? log = null;
        DataFile? data = null;
        LiteDatabase? db = null;
        KvStore? store = null;
        try
        {
            log = new LogFile(Path.Combine(directory, LogFileName));
            data = new DataFile(Path.Combine(directory, DataFileName), log);
            var created = data.Length == 0;
            db = new LiteDatabase(data, mapper: null, logStream: log);
            store = new KvStore(directoryLock, log, data, db, options.Durability);
            store.Migrate(options.Migrations, created);
            return store;
        }
        catch
        {
            if (store is not null)
            {
                store.Dispose();
            }
            else
            {
                db?.Dispose();
                data?.Dispose();
                log?.Dispose();
                directoryLock.Dispose();
            }
            throw;
        }
    }

    /// <summary>The tree with this name (lower-case letters, digits, '_'), created on first write.</summary>
    public KvTree Tree(string name) =>
        _trees.GetOrAdd(name, static (n, store) =>
        {
            ValidateTreeName(n);
            return new KvTree(store, n, store._db.GetCollection(n));
        }, this);

    /// <summary>The last value handed out by <see cref="NextCount"/> (committed or not).</summary>
    public ulong CurrentCount
    {
        get
        {
            lock (_countLock)
                return _issuedCount;
        }
    }

    /// <summary>
    /// The committed watermark: every count up to this one is either committed durably or was
    /// abandoned (its batch failed or was disposed), and none will commit later. Readers that follow
    /// the counter (sync) read up to here and no further, so they never skip a position that a
    /// slower writer fills in afterwards.
    /// </summary>
    public ulong CommittedCount
    {
        get
        {
            lock (_countLock)
                return _committedCount;
        }
    }

    /// <summary>
    /// Takes the next value of the global counter for <paramref name="batch"/>. The counter is
    /// persisted with the batch, so a value is never handed out twice across restarts;
    /// <see cref="CommittedCount"/> stays below it until the batch is committed or disposed.
    /// </summary>
    public ulong NextCount(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_countLock)
        {
            var next = _issuedCount + 1;
            batch.AddCount(this, next);
            _issuedCount = next;
            _uncommittedCounts.Add(next);
            return next;
        }
    }

    /// <summary>
    /// Commits every write of the batch in one LiteDB transaction, all or nothing, and returns once
    /// the commit is durable (per <see cref="KvStoreOptions.Durability"/>), then wakes the watchers
    /// of the keys it wrote. If it throws, nothing of the batch was committed, with one exception: if
    /// the disk failed to sync, the batch may be visible but is not durable, and the store refuses
    /// every later commit.
    /// </summary>
    public void Commit(WriteBatch batch)
    {
        Commit(batch, out _);
    }

    /// <summary>
    /// As <see cref="Commit"/>, but waits for the disk without holding a thread when another
    /// commit's fsync is already running. The batch is applied before this returns its task.
    /// There is no cancellation token on purpose: a write, once started, finishes.
    /// </summary>
    public async Task CommitAsync(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        BeginCommit(batch);
        try
        {
            long ticket;
            try
            {
                ticket = Apply(batch, out _);
                if (ticket != 0)
                    await _flush!.WaitDurableAsync(ticket);
            }
            catch
            {
                Settle(batch, published: false);
                throw;
            }
            Settle(batch, published: true);
        }
        finally
        {
            EndCommit();
        }
    }

    /// <summary>
    /// Completes at the first commit, after this call, that writes (puts, removes or increments) a
    /// key starting with <paramref name="prefix"/> in <paramref name="tree"/>; one-shot.
    /// </summary>
    /// <remarks>
    /// To wait for news without missing any: call this first and keep the task, then read what you
    /// need (the tree, <see cref="CommittedCount"/>), then await the task. A commit that lands
    /// between the call and the read wakes you even though the read already saw it (a spurious but
    /// harmless wake-up); a commit after the read always wakes you. A commit wakes its watchers once
    /// it is durable, its <see cref="WriteBatch.AfterCommit"/> actions have run and
    /// <see cref="CommittedCount"/> covers its counts. Cancelling the token
    /// removes the watch and cancels the task; disposing the store fails it.
    /// </remarks>
    public Task WatchPrefix(KvTree tree, byte[] prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(prefix);
        if (tree.Store != this)
            throw new ArgumentException("The tree belongs to another store.", nameof(tree));
        return _watchers.Add(tree.Name, prefix, cancellationToken);
    }

    /// <summary>Watches not yet woken or cancelled.</summary>
    internal int PendingWatches => _watchers.Count;

    /// <summary>The group commit's fsync count, or null when commits are not synced.</summary>
    internal long? Flushes => _flush?.Flushes;

    internal ulong CommitIncrement(KvTree tree, byte[] key)
    {
        using var batch = new WriteBatch();
        batch.Increment(tree, key);
        Commit(batch, out var value);
        return value;
    }

    /// <summary>A batch disposed uncommitted: its counts no longer hold the watermark back.</summary>
    internal void Abandon(WriteBatch batch) => Settle(batch, published: false);

    private void Commit(WriteBatch batch, out ulong incremented)
    {
        ArgumentNullException.ThrowIfNull(batch);
        BeginCommit(batch);
        try
        {
            try
            {
                var ticket = Apply(batch, out incremented);
                if (ticket != 0)
                    _flush!.WaitDurable(ticket);
            }
            catch
            {
                Settle(batch, published: false);
                throw;
            }
            Settle(batch, published: true);
        }
        finally
        {
            EndCommit();
        }
    }

    private void BeginCommit(WriteBatch batch)
    {
        if (batch.CountStore is not null && batch.CountStore != this)
            throw new ArgumentException("The batch holds counts of another store.", nameof(batch));
        foreach (var operation in batch.Operations)
        {
            if (operation.Tree.Store != this)
                throw new ArgumentException($"The batch writes tree {operation.Tree.Name} of another store.", nameof(batch));
        }
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            batch.BeginCommit();
            _activeCommits++;
        }
    }

    private void EndCommit()
    {
        lock (_lifecycle)
        {
            if (--_activeCommits == 0 && _disposed)
                Monitor.PulseAll(_lifecycle);
        }
    }

    /// <summary>
    /// Writes the batch through LiteDB (into the log, at OS level) and returns the group-commit
    /// ticket to wait for, or 0 when there is nothing to sync.
    /// </summary>
    private long Apply(WriteBatch batch, out ulong incremented)
    {
        incremented = 0;
        if (batch.IsEmpty)
            return 0;
        lock (_commitLock)
        {
            _flush?.ThrowIfFailed();
            _access.EnterWriteLock();
            try
            {
                return ApplyExclusive(batch, out incremented);
            }
            finally
            {
                _access.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// Holds off write transactions until the returned scope is disposed, so that a LiteDB read sees no
    /// page being changed. A struct, so that the hot path of every read allocates nothing.
    /// </summary>
    internal ReadScope EnterRead()
    {
        _access.EnterReadLock();
        return new ReadScope(_access);
    }

    internal readonly struct ReadScope(ReaderWriterLockSlim access) : IDisposable
    {
        public void Dispose() => access.ExitReadLock();
    }

    private long ApplyExclusive(WriteBatch batch, out ulong incremented)
    {
        incremented = 0;
        if (!_db.BeginTrans())
            throw new InvalidOperationException("A LiteDB transaction is already open on this thread.");
        var counter = Math.Max(_persistedCount, batch.MaxCount);
        try
        {
            foreach (var operation in batch.Operations)
            {
                var id = new BsonValue(operation.Key);
                var collection = operation.Tree.Collection;
                switch (operation.Kind)
                {
                    case WriteBatch.Kind.Put:
                        collection.Upsert(Document(id, operation.Value!));
                        break;
                    case WriteBatch.Kind.Remove:
                        collection.Delete(id);
                        break;
                    case WriteBatch.Kind.Increment:
                        incremented = ReadCounter(operation.Tree, collection.FindById(id)) + 1;
                        collection.Upsert(Document(id, KeyCodec.U64(incremented)));
                        break;
                }
            }

            // Counts can commit out of order; the stored counter only ever grows.
            if (counter > _persistedCount)
                _global.Collection.Upsert(Document(new BsonValue(CounterKey), KeyCodec.U64(counter)));
            _db.Commit();
        }
        catch
        {
            _db.Rollback();
            throw;
        }
        _persistedCount = counter;
        var ticket = _flush?.Written() ?? 0;
        if (_log.Length > ForcedCheckpointBytes)
            _db.Checkpoint();
        return ticket;
    }

    /// <summary>
    /// Runs the batch's <see cref="WriteBatch.AfterCommit"/> actions (when it committed), then lets
    /// its counts go, moves the watermark, and wakes the watchers of every committed batch that the
    /// watermark now covers (a batch whose counts are ahead of it waits its turn, so a
    /// woken reader always finds the batch within <see cref="CommittedCount"/>).
    /// </summary>
    private void Settle(WriteBatch batch, bool published)
    {
        batch.EndCommit();
        try
        {
            if (published)
            {
                foreach (var action in batch.Committed)
                    action();
            }
        }
        finally
        {
            Release(batch, published);
        }
    }

    private void Release(WriteBatch batch, bool published)
    {
        List<WriteBatch>? wake = null;
        lock (_countLock)
        {
            foreach (var count in batch.Counts)
                _uncommittedCounts.Remove(count);
            _committedCount = _uncommittedCounts.Count == 0 ? _issuedCount : _uncommittedCounts.Min - 1;
            if (published && batch.Operations.Count > 0)
                _unpublished.Enqueue(batch, batch.MaxCount);
            while (_unpublished.TryPeek(out var next, out var maxCount) && maxCount <= _committedCount)
            {
                _unpublished.Dequeue();
                (wake ??= []).Add(next);
            }
        }
        if (wake is null)
            return;
        foreach (var woken in wake)
            _watchers.Wake(woken.Operations.Select(o => (o.Tree.Name, o.Key)));
    }

    private void Migrate(IReadOnlyList<SchemaMigration> migrations, bool created)
    {
        var current = migrations[^1].Version;
        var stored = _global.Get(SchemaVersionKey);
        if (stored is not null && stored.Length != 8)
            throw new StoreSchemaException($"The schema version in {Trees.Global} is {stored.Length} bytes long, not 8; the data directory is damaged.");
        var version = stored is null ? 0 : KeyCodec.ReadU64(stored);
        if (stored is null && created)
        {
            using var batch = new WriteBatch();
            Commit(batch.Put(_global, SchemaVersionKey, KeyCodec.U64((ulong)current)));
            return;
        }
        if (version > (ulong)current)
            throw new StoreSchemaException($"The data directory has schema version {version}, but this build knows versions up to {current}: a newer release wrote it. Run that release (or a later one), or restore a backup made by this one.");
        foreach (var migration in migrations)
        {
            if ((ulong)migration.Version <= version)
                continue;
            using var batch = new WriteBatch();
            migration.Apply(this, batch);
            Commit(batch.Put(_global, SchemaVersionKey, KeyCodec.U64((ulong)migration.Version)));
        }
    }

    public void Dispose()
    {
        lock (_lifecycle)
        {
            if (_disposed)
                return;
            _disposed = true;
            while (_activeCommits > 0)
                Monitor.Wait(_lifecycle);
        }
        _watchers.Close();
        try
        {
            // LiteDB checkpoints on close: the data file gets every page and is synced.
            _db.Dispose();
            _access.Dispose();
        }
        finally
        {
            _data.Dispose();
            _log.Dispose();
            _directoryLock.Dispose();
        }
    }

    private static BsonDocument Document(BsonValue id, byte[] value) => new() { ["_id"] = id, [KvTree.ValueField] = value };

    private static ulong ReadCounter(KvTree tree, BsonDocument? doc)
    {
        if (doc is null)
            return 0;
        var value = doc[KvTree.ValueField].AsBinary;
        if (value.Length != 8)
            throw new InvalidOperationException($"The value to increment in tree {tree.Name} is {value.Length} bytes long, not an 8-byte counter.");
        return KeyCodec.ReadU64(value);
    }

    private static void ValidateMigrations(IReadOnlyList<SchemaMigration> migrations)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        if (migrations.Count == 0)
            throw new ArgumentException("The schema history needs at least version 1.", nameof(migrations));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
                throw new ArgumentException($"Schema migrations must be numbered 1, 2, 3, ... in order; entry {i} is version {migrations[i].Version}.", nameof(migrations));
        }
    }

    private static void ValidateTreeName(string name)
    {
        // LiteDB compares collection names without case; lower case only keeps names one-to-one.
        if (name.Length is 0 or > 60 || !char.IsAsciiLetterLower(name[0]) || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            throw new ArgumentException($"Tree name \"{name}\" is not 1-60 characters of a-z, 0-9 and '_' starting with a letter.", nameof(name));
    }
}
