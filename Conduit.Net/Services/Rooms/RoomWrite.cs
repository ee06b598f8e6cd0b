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
    private readonly List<Action> _abandoned = [];
    private bool _committed;

    public RoomWrite() => Batch.AfterCommit(() => _committed = true);

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

    /// <summary>
    /// Runs <paramref name="action"/> after a successful commit, in registration order, and before
    /// the commit's position is visible to readers of the store's watermark (sync): a reader that
    /// sees the position also sees the caches it publishes.
    /// </summary>
    public void AfterCommit(Action action) => Batch.AfterCommit(action);

    /// <summary>Commits the batch (durably, per the store's durability), publishing to the caches on the way.</summary>
    public Task CommitAsync(KvStore store) => store.CommitAsync(Batch);

    /// <summary>As <see cref="CommitAsync"/>, holding the thread while the disk syncs.</summary>
    public void Commit(KvStore store) => store.Commit(Batch);

    /// <summary>Runs <paramref name="action"/> when the unit of work is disposed without having committed.</summary>
    public void OnAbandon(Action action) => _abandoned.Add(action);

    /// <summary>
    /// Abandons an uncommitted batch, so that the global counts it took stop holding back the
    /// committed watermark, and runs the <see cref="OnAbandon"/> actions.
    /// </summary>
    public void Dispose()
    {
        Batch.Dispose();
        if (_committed)
            return;
        _committed = true;
        foreach (var action in _abandoned)
            action();
    }
}
