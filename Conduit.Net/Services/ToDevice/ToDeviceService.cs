using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.ToDevice;

/// <summary>
/// Send-to-device messaging (spec "Send-to-Device messaging"): <c>PUT /sendToDevice</c> puts one
/// message per recipient device into its <see cref="ToDeviceInbox"/>, once per transaction id of the
/// sending device (<see cref="Trees.ToDeviceTransactions"/>).
/// </summary>
public sealed class ToDeviceService
{
    private readonly KvStore _store;
    private readonly ToDeviceInbox _inbox;
    private readonly KvTree _transactions;
    private readonly DeviceService _devices;
    private readonly ServerName _server;
    private readonly ILogger<ToDeviceService> _logger;

    /// <summary>Serializes the check and the write of one sender's transaction ids; striped by sender.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public ToDeviceService(KvStore store, ToDeviceInbox inbox, DeviceService devices, ServerConfig config, ILogger<ToDeviceService> logger)
    {
        _store = store;
        _inbox = inbox;
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
                var known = _devices.List(userId).Select(d => d.DeviceId).ToList();
                foreach (var (deviceId, content) in devices)
                {
                    IEnumerable<string> targets = deviceId == "*" ? known : known.Contains(deviceId) ? [deviceId] : [];
                    foreach (var target in targets)
                    {
                        _inbox.Stage(batch, userId, target, new JsonObject { ["type"] = type, ["sender"] = senderUserId, ["content"] = content.DeepClone() });
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
}
