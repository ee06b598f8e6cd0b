using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.ToDevice;

/// <summary>One to-device message as <c>/sync</c> delivers it, at its position in the recipient's inbox.</summary>
public sealed record ToDeviceMessage(ulong Position, JsonObject Event);

/// <summary>What a sync delivers from one device's inbox: the messages, and whether more wait behind them.</summary>
public sealed record ToDeviceBatch(IReadOnlyList<ToDeviceMessage> Messages, bool Limited);

/// <summary>
/// Send-to-device messaging (spec "Send-to-Device messaging"): each message is stored in the
/// recipient device's inbox (<see cref="Trees.ToDeviceInbox"/>) at a position of the global counter,
/// delivered by <c>/sync</c> in order, and deleted once a later sync acknowledges it by coming back
/// with the token of the response that delivered it.
/// </summary>
/// <remarks>
/// A response delivers at most <see cref="MaxPerSync"/> messages. Its <c>next_batch</c> is the
/// store's watermark, which is past the messages it held back, so the position of the last message
/// it did deliver is recorded against that token (<see cref="Trees.ToDeviceDelivered"/>): syncing
/// with the token acknowledges up to there and no further.
/// </remarks>
public sealed class ToDeviceService
{
    /// <summary>The most messages one sync response delivers, as Synapse; the rest come with the next one.</summary>
    public const int MaxPerSync = 100;

    private readonly KvStore _store;
    private readonly KvTree _inbox;
    private readonly KvTree _delivered;
    private readonly KvTree _transactions;
    private readonly DeviceService _devices;
    private readonly ServerName _server;
    private readonly ILogger<ToDeviceService> _logger;

    /// <summary>Serializes the check and the write of one sender's transaction ids; striped by sender.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public ToDeviceService(KvStore store, DeviceService devices, ServerConfig config, ILogger<ToDeviceService> logger)
    {
        _store = store;
        _inbox = store.Tree(Trees.ToDeviceInbox);
        _delivered = store.Tree(Trees.ToDeviceDelivered);
        _transactions = store.Tree(Trees.ToDeviceTransactions);
        _devices = devices;
        _server = ServerName.Parse(config.ServerName);
        _logger = logger;
    }

    /// <summary>
    /// <c>PUT /sendToDevice/{eventType}/{txnId}</c>: stores one message per recipient device, all in
    /// one batch that is durable before this returns. <paramref name="messages"/> maps user ids to
    /// device ids (or <c>*</c>, every device of the user) to contents. A txn id the sending device
    /// used before sends nothing. Unknown local users and devices are skipped, as Synapse does.
    /// </summary>
    public void Send(string senderUserId, string senderDeviceId, string type, string txnId, JsonObject messages)
    {
        if (type.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(type) > 255)
            throw MatrixException.InvalidParam("An event type is 1 to 255 bytes long.");
        var recipients = Recipients(messages);
        var txnKey = SHA256.HashData(KeyCodec.Join(senderUserId, senderDeviceId, txnId));
        lock (Stripe(senderUserId))
        {
            if (_transactions.ContainsKey(txnKey))
                return;
            using var batch = new WriteBatch();
            var count = 0;
            foreach (var (userId, devices) in recipients)
            {
                foreach (var (deviceId, content) in devices)
                {
                    var targets = deviceId == "*"
                        ? _devices.List(userId).Select(d => d.DeviceId)
                        : _devices.List(userId).Where(d => d.DeviceId == deviceId).Select(d => d.DeviceId);
                    foreach (var target in targets)
                    {
                        var ev = new JsonObject { ["type"] = type, ["sender"] = senderUserId, ["content"] = content.DeepClone() };
                        batch.Put(_inbox, InboxKey(userId, target, _store.NextCount(batch)), KeyCodec.Utf8(ev.ToJsonString()));
                        count++;
                    }
                }
            }
            batch.Put(_transactions, txnKey, []);
            _store.Commit(batch);
            _logger.LogDebug("{UserId} sent {Count} {Type} to-device messages", senderUserId, count, type);
        }
    }

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

        var messages = new List<ToDeviceMessage>();
        var limited = false;
        foreach (var (key, value) in _inbox.ScanRange(InboxPrefix(userId, deviceId), InboxKey(userId, deviceId, upTo + 1)))
        {
            if (messages.Count == MaxPerSync)
            {
                limited = true;
                break;
            }
            messages.Add(new ToDeviceMessage(KeyCodec.ReadU64(key.AsSpan(key.Length - 8)), JsonNode.Parse(value)!.AsObject()));
        }

        var recordKey = InboxKey(userId, deviceId, upTo);
        if (limited)
            _delivered.Put(recordKey, KeyCodec.U64(messages[^1].Position));
        else if (_delivered.ContainsKey(recordKey))
            _delivered.Remove(recordKey);
        return new ToDeviceBatch(messages, limited);
    }

    /// <summary>
    /// Completes when a message for the device commits after this call (one-shot; cancelling the
    /// token removes the watch). An acknowledgement also wakes it, harmlessly.
    /// </summary>
    public Task Watch(string userId, string deviceId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_inbox, InboxPrefix(userId, deviceId), cancellationToken);

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

    /// <summary>
    /// The local recipients of <c>messages</c>, checked for shape (<c>M_BAD_JSON</c>). Users of other
    /// servers are left out here: sending to them over federation (an <c>m.direct_to_device</c> EDU)
    /// belongs to the federation issue, which does not exist yet.
    /// </summary>
    private List<(string UserId, List<(string DeviceId, JsonObject Content)> Devices)> Recipients(JsonObject messages)
    {
        var recipients = new List<(string, List<(string, JsonObject)>)>();
        foreach (var (userId, byDevice) in messages)
        {
            if (!UserId.TryParse(userId, out var parsed))
                throw MatrixException.BadJson($"messages: \"{userId}\" is not a user id.");
            if (byDevice is not JsonObject devices)
                throw MatrixException.BadJson($"messages.{userId} must be an object of device ids to contents.");
            var list = new List<(string, JsonObject)>();
            foreach (var (deviceId, content) in devices)
            {
                if (content is not JsonObject contentObject)
                    throw MatrixException.BadJson($"messages.{userId}.{deviceId} must be an object.");
                list.Add((deviceId, contentObject));
            }
            if (!string.Equals(parsed.Server.Value, _server.Value, StringComparison.Ordinal))
            {
                _logger.LogDebug("To-device messages for {UserId} on another server are not sent: federation is not implemented", userId);
                continue;
            }
            recipients.Add((userId, list));
        }
        return recipients;
    }

    private Lock Stripe(string userId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_stripes.Length];

    private static byte[] InboxPrefix(string userId, string deviceId) => KeyCodec.Prefix(userId, deviceId);

    private static byte[] InboxKey(string userId, string deviceId, ulong position) => [.. KeyCodec.Prefix(userId, deviceId), .. KeyCodec.U64(position)];
}
