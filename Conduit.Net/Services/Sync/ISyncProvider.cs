namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of one stream of <c>/sync</c> (DESIGN.md "Sync"): rooms (timeline and state), account data, and
/// the ephemeral and end-to-end streams as they come. Each reads its part for the window
/// (<see cref="SyncPass.Since"/>, <see cref="SyncPass.UpTo"/>]: everything it has when
/// <c>Since</c> is null (complete), what changed in the window otherwise (incremental). The latest
/// position of every stream is the store's committed watermark, because every stream takes its
/// positions from the one global counter.
/// </summary>
public interface ISyncProvider
{
    /// <summary>
    /// Registers one-shot wake-ups for the next change of this stream that concerns the request,
    /// before the pass reads anything (the store's register-read-await contract).
    /// </summary>
    void Watch(SyncWatch watch);

    /// <summary>Writes this stream's part of the response for the pass's window.</summary>
    void Write(SyncPass pass);
}

/// <summary>The wake-ups of one wait of a long-poll, registered by every stream in order.</summary>
public sealed class SyncWatch
{
    private readonly List<Task> _wakeUps = [];

    public SyncWatch(string userId, string deviceId, CancellationToken cancellationToken)
    {
        UserId = userId;
        DeviceId = deviceId;
        CancellationToken = cancellationToken;
    }

    public string UserId { get; }

    /// <summary>The syncing device, for the streams kept per device (to-device messages).</summary>
    public string DeviceId { get; }

    /// <summary>Cancelled when the wait ends: a stream passes it to every wake-up it registers.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// The rooms the user is joined to, read by the rooms stream (which runs first) after it
    /// registered its wake-up for membership changes, so that a join after this read still wakes the wait.
    /// </summary>
    public IReadOnlyList<string> JoinedRooms { get; set; } = [];

    public IReadOnlyList<Task> WakeUps => _wakeUps;

    public void Add(Task wakeUp) => _wakeUps.Add(wakeUp);
}
