using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// One unit of work of the rooms service: the <see cref="WriteBatch"/> that commits it, what the
/// writers built so far (read back before commit: createRoom appends several events in one batch,
/// and each needs the state, events and short ids of the ones before), and what to publish to the
/// in-memory caches once the batch is durable.
/// </summary>
/// <remarks>
/// Caches only ever hold committed data: a batch that fails to commit leaves nothing behind but its
/// overlays, which die with it.
/// </remarks>
public sealed class RoomWrite : IDisposable
{
    private readonly Dictionary<object, object> _overlays = [];
    private readonly List<Action> _afterCommit = [];

    public WriteBatch Batch { get; } = new();

    /// <summary>The owner's private read-your-writes map for this unit of work, created on first use.</summary>
    public Dictionary<TKey, TValue> Overlay<TKey, TValue>(object owner)
        where TKey : notnull
    {
        if (_overlays.TryGetValue(owner, out var existing))
            return (Dictionary<TKey, TValue>)existing;
        var created = new Dictionary<TKey, TValue>();
        _overlays[owner] = created;
        return created;
    }

    /// <summary>Runs <paramref name="action"/> after a successful commit, in registration order.</summary>
    public void AfterCommit(Action action) => _afterCommit.Add(action);

    /// <summary>Commits the batch (durably, per the store's durability) and then publishes to the caches.</summary>
    public async Task CommitAsync(KvStore store)
    {
        await store.CommitAsync(Batch);
        foreach (var action in _afterCommit)
            action();
    }

    /// <summary>As <see cref="CommitAsync"/>, holding the thread while the disk syncs.</summary>
    public void Commit(KvStore store)
    {
        store.Commit(Batch);
        foreach (var action in _afterCommit)
            action();
    }

    /// <summary>Abandons an uncommitted batch, so that the global counts it took stop holding back the committed watermark.</summary>
    public void Dispose() => Batch.Dispose();
}
