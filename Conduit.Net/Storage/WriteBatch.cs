namespace Conduit.Net.Storage;

/// <summary>
/// Writes to several trees that commit together in one transaction, or not at all. Build it
/// synchronously, then hand it to <see cref="KvStore.Commit"/> once; a batch cannot be reused.
/// The batch keeps the arrays it is given: do not change them before the commit.
/// </summary>
/// <remarks>
/// A batch that took counts with <see cref="KvStore.NextCount"/> holds back
/// <see cref="KvStore.CommittedCount"/> until it is committed or disposed, so build it under
/// <c>using</c>: a batch abandoned by an exception then releases its counts.
/// </remarks>
public sealed class WriteBatch : IDisposable
{
    private readonly List<Operation> _operations = [];
    private readonly List<ulong> _counts = [];
    private readonly List<Action> _committed = [];
    private State _state;

    private enum State
    {
        Open,
        Committing,
        Done,
    }

    internal enum Kind
    {
        Put,
        Remove,
        Increment,
    }

    internal readonly record struct Operation(Kind Kind, KvTree Tree, byte[] Key, byte[]? Value);

    /// <summary>True when the batch has neither writes nor counts.</summary>
    public bool IsEmpty => _operations.Count == 0 && _counts.Count == 0;

    internal IReadOnlyList<Operation> Operations => _operations;

    /// <summary>The counts taken for this batch, in increasing order.</summary>
    internal IReadOnlyList<ulong> Counts => _counts;

    /// <summary>The store whose counts this batch holds, if any.</summary>
    internal KvStore? CountStore { get; private set; }

    internal ulong MaxCount => _counts.Count == 0 ? 0 : _counts[^1];

    /// <summary>The actions of <see cref="AfterCommit"/>, in registration order.</summary>
    internal IReadOnlyList<Action> Committed => _committed;

    public WriteBatch Put(KvTree tree, byte[] key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Add(new Operation(Kind.Put, tree, key, value));
    }

    public WriteBatch Remove(KvTree tree, byte[] key) => Add(new Operation(Kind.Remove, tree, key, null));

    internal WriteBatch Increment(KvTree tree, byte[] key) => Add(new Operation(Kind.Increment, tree, key, null));

    /// <summary>
    /// Runs <paramref name="action"/> once the batch has committed, before
    /// <see cref="KvStore.CommittedCount"/> covers its counts and before its watchers wake, so that
    /// what it publishes (an in-memory cache of the data written) is there for every reader that
    /// follows the watermark or a watch. Not run when the commit fails. Keep it short and make it
    /// not throw: an exception reaches the committer although the batch did commit.
    /// </summary>
    public WriteBatch AfterCommit(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ThrowIfNotOpen();
        _committed.Add(action);
        return this;
    }

    internal void AddCount(KvStore store, ulong count)
    {
        ThrowIfNotOpen();
        if (CountStore is not null && CountStore != store)
            throw new InvalidOperationException("A write batch can take counts from one store only.");
        CountStore = store;
        _counts.Add(count);
    }

    /// <summary>Marks the batch as handed to a commit; from here on it cannot change.</summary>
    internal void BeginCommit()
    {
        ThrowIfNotOpen();
        _state = State.Committing;
    }

    internal void EndCommit() => _state = State.Done;

    /// <summary>Releases the counts of a batch that was never committed; after a commit, nothing.</summary>
    public void Dispose()
    {
        if (_state != State.Open)
            return;
        _state = State.Done;
        CountStore?.Abandon(this);
    }

    private WriteBatch Add(Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation.Tree);
        KvTree.ValidateKey(operation.Key);
        ThrowIfNotOpen();
        _operations.Add(operation);
        return this;
    }

    private void ThrowIfNotOpen()
    {
        if (_state != State.Open)
            throw new InvalidOperationException("This write batch was already committed or disposed; build a new one.");
    }
}
