using System.Text.Json.Nodes;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.ToDevice;

/// <summary>One to-device message as <c>/sync</c> delivers it, at its position in the recipient's inbox.</summary>
public sealed record ToDeviceMessage(ulong Position, JsonObject Event);

/// <summary>What a sync delivers from one device's inbox: the messages, and whether more wait behind them.</summary>
public sealed record ToDeviceBatch(IReadOnlyList<ToDeviceMessage> Messages, bool Limited);

/// <summary>
/// Each local device's to-device inbox (<see cref="Trees.ToDeviceInbox"/>): messages at positions of
/// the global counter, delivered by <c>/sync</c> in order and deleted once a later sync acknowledges
/// them by coming back with the token of the response that delivered them. A removed device's inbox
/// goes with it.
/// </summary>
/// <remarks>
/// A response delivers at most <see cref="MaxPerSync"/> messages. Its <c>next_batch</c> is the
/// store's watermark, which is past the messages it held back, so the position of the last message
/// it did deliver is recorded against that token (<see cref="Trees.ToDeviceDelivered"/>): syncing
/// with the token acknowledges up to there and no further.
/// </remarks>
public sealed class ToDeviceInbox : IDeviceObserver
{
    /// <summary>The most messages one sync response delivers, as Synapse; the rest come with the next one.</summary>
    public const int MaxPerSync = 100;

    private readonly KvStore _store;
    private readonly KvTree _inbox;
    private readonly KvTree _delivered;

    public ToDeviceInbox(KvStore store)
    {
        _store = store;
        _inbox = store.Tree(Trees.ToDeviceInbox);
        _delivered = store.Tree(Trees.ToDeviceDelivered);
    }

    /// <summary>Stages <paramref name="ev"/> (<c>{type, sender, content}</c>) into the device's inbox at a new position.</summary>
    public void Stage(WriteBatch batch, string userId, string deviceId, JsonObject ev) =>
        batch.Put(_inbox, InboxKey(userId, deviceId, _store.NextCount(batch)), KeyCodec.Utf8(ev.ToJsonString()));

    /// <summary>
    /// The sync read of one device's inbox: first acknowledges what the response with token
    /// <paramref name="since"/> delivered (deleting it), then returns the oldest messages at or before
    /// <paramref name="upTo"/>, at most <see cref="MaxPerSync"/>, and records how far a limited
    /// answer went against <paramref name="upTo"/>, the token of the response it goes into.
    /// </summary>
    public ToDeviceBatch Deliver(string userId, string deviceId, ulong? since, ulong upTo)
    {
        if (since is { } token)
            Acknowledge(userId, deviceId, token);

        var messages = Read(userId, deviceId, 0, upTo, MaxPerSync + 1);
        var limited = messages.Count > MaxPerSync;
        if (limited)
            messages.RemoveAt(MaxPerSync);

        var recordKey = InboxKey(userId, deviceId, upTo);
        if (limited)
            _delivered.Put(recordKey, KeyCodec.U64(messages[^1].Position));
        else if (_delivered.ContainsKey(recordKey))
            _delivered.Remove(recordKey);
        return new ToDeviceBatch(messages, limited);
    }

    /// <summary>
    /// Up to <see cref="MaxPerSync"/> messages after position <paramref name="after"/>, oldest first,
    /// without acknowledging any (a dehydrated device's messages are read this way, MSC3814).
    /// </summary>
    public IReadOnlyList<ToDeviceMessage> Page(string userId, string deviceId, ulong after) =>
        Read(userId, deviceId, after, _store.CommittedCount, MaxPerSync);

    /// <summary>
    /// Completes when a message for the device commits after this call (one-shot; cancelling the
    /// token removes the watch). An acknowledgement also wakes it, harmlessly.
    /// </summary>
    public Task Watch(string userId, string deviceId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_inbox, InboxPrefix(userId, deviceId), cancellationToken);

    public void DevicesRemoved(WriteBatch batch, string userId, IReadOnlyCollection<string> deviceIds)
    {
        foreach (var deviceId in deviceIds)
        {
            var prefix = InboxPrefix(userId, deviceId);
            foreach (var (key, _) in _inbox.ScanPrefix(prefix))
                batch.Remove(_inbox, key);
            foreach (var (key, _) in _delivered.ScanPrefix(prefix))
                batch.Remove(_delivered, key);
        }
    }

    /// <summary>Messages are for the device whatever its name.</summary>
    public void DeviceRenamed(WriteBatch batch, string userId, string deviceId)
    {
    }

    /// <summary>
    /// Deletes what the response with token <paramref name="since"/> delivered: everything up to the
    /// position recorded for a limited response, up to the token otherwise. Records of older
    /// responses go too: the client has moved past them.
    /// </summary>
    private void Acknowledge(string userId, string deviceId, ulong since)
    {
        var upTo = _delivered.Get(InboxKey(userId, deviceId, since)) is { } recorded ? KeyCodec.ReadU64(recorded) : since;
        var prefix = InboxPrefix(userId, deviceId);
        using var batch = new WriteBatch();
        foreach (var (key, _) in _inbox.ScanRange(prefix, InboxKey(userId, deviceId, upTo + 1)))
            batch.Remove(_inbox, key);
        foreach (var (key, _) in _delivered.ScanRange(prefix, InboxKey(userId, deviceId, since + 1)))
            batch.Remove(_delivered, key);
        if (!batch.IsEmpty)
            _store.Commit(batch);
    }

    /// <summary>Up to <paramref name="limit"/> messages at positions in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first.</summary>
    private List<ToDeviceMessage> Read(string userId, string deviceId, ulong after, ulong upTo, int limit)
    {
        var messages = new List<ToDeviceMessage>();
        foreach (var (key, value) in _inbox.ScanRange(InboxKey(userId, deviceId, after + 1), InboxKey(userId, deviceId, upTo + 1)))
        {
            messages.Add(new ToDeviceMessage(KeyCodec.ReadU64(key.AsSpan(key.Length - 8)), JsonNode.Parse(value)!.AsObject()));
            if (messages.Count == limit)
                break;
        }
        return messages;
    }

    private static byte[] InboxPrefix(string userId, string deviceId) => KeyCodec.Prefix(userId, deviceId);

    private static byte[] InboxKey(string userId, string deviceId, ulong position) => [.. KeyCodec.Prefix(userId, deviceId), .. KeyCodec.U64(position)];
}
