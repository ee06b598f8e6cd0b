using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.ToDevice;

/// <summary>
/// Send-to-device messaging (spec "Send-to-Device messaging"): <c>PUT /sendToDevice</c> puts one
/// message per recipient device into its <see cref="ToDeviceInbox"/>, once per transaction id of the
/// sending device (<see cref="Trees.ToDeviceTransactions"/>); users of other servers get theirs
/// through <c>m.direct_to_device</c> EDUs (spec server-server "Send-to-device messaging").
/// </summary>
public sealed class ToDeviceService
{
    public const string DirectToDevice = "m.direct_to_device";

    private readonly KvStore _store;
    private readonly ToDeviceInbox _inbox;
    private readonly KvTree _transactions;
    private readonly DeviceService _devices;
    private readonly KvTree _federationIds;
    private readonly FederationSender _federation;
    private readonly ServerName _server;
    private readonly ILogger<ToDeviceService> _logger;

    /// <summary>Serializes the check and the write of one sender's transaction ids; striped by sender.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public ToDeviceService(KvStore store, ToDeviceInbox inbox, DeviceService devices, FederationSender federation, ServerConfig config, ILogger<ToDeviceService> logger)
    {
        _store = store;
        _inbox = inbox;
        _transactions = store.Tree(Trees.ToDeviceTransactions);
        _federationIds = store.Tree(Trees.ToDeviceFederationIds);
        _federation = federation;
        _devices = devices;
        _server = ServerName.Parse(config.ServerName);
        _logger = logger;
    }

    /// <summary>
    /// <c>PUT /sendToDevice/{eventType}/{txnId}</c>: stores one message per recipient device and
    /// queues one <c>m.direct_to_device</c> EDU per other server for its users, all in one batch that
    /// is durable before this returns: an acknowledged message reaches a remote user once his server
    /// is reachable, also after a restart. <paramref name="messages"/> maps user ids to device ids
    /// (or <c>*</c>, every device of the user) to contents. A txn id the sending device used before
    /// sends nothing. Unknown local users and devices are skipped, as Synapse does.
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
            foreach (var (userId, _, devices) in recipients.Where(r => r.Server == _server.Value))
            {
                foreach (var (deviceId, content) in devices)
                    count += Deliver(batch, senderUserId, type, userId, deviceId, content);
            }
            foreach (var byServer in recipients.Where(r => r.Server != _server.Value).GroupBy(r => r.Server, StringComparer.Ordinal))
            {
                var edu = new JsonObject
                {
                    ["sender"] = senderUserId,
                    ["type"] = type,
                    ["message_id"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                    ["messages"] = new JsonObject(byServer.Select(r => KeyValuePair.Create(
                        r.UserId, (JsonNode?)new JsonObject(r.Devices.Select(d => KeyValuePair.Create(d.DeviceId, (JsonNode?)d.Content.DeepClone())))))),
                };
                _federation.EnqueueEdu(batch, [byServer.Key], DirectToDevice, edu);
            }
            batch.Put(_transactions, txnKey, []);
            _store.Commit(batch);
            _logger.LogDebug("{UserId} sent {Count} {Type} to-device messages to local devices", senderUserId, count, type);
        }
    }

    /// <summary>
    /// An <c>m.direct_to_device</c> EDU from <paramref name="origin"/>: each message goes into the
    /// inbox of the named local device (<c>*</c>: every device of the user). The sender must be a
    /// user of the origin and the recipients users of this server (others are ignored); an EDU whose
    /// (origin, <c>message_id</c>) arrived before delivers nothing.
    /// </summary>
    public void Receive(string origin, JsonObject content)
    {
        if (Text(content, "sender") is not { } sender || Text(content, "type") is not { } type
            || Text(content, "message_id") is not { } messageId || content["messages"] is not JsonObject messages)
        {
            _logger.LogInformation("Ignored a malformed m.direct_to_device EDU from {Origin}", origin);
            return;
        }
        if (!UserId.TryParse(sender, out var senderId) || senderId.Server.Value != origin)
        {
            _logger.LogInformation("Ignored to-device messages from {Origin} sent as {Sender}, a user of another server", origin, sender);
            return;
        }
        var idKey = SHA256.HashData(KeyCodec.Join(origin, messageId));
        lock (Stripe(sender))
        {
            if (_federationIds.ContainsKey(idKey))
                return;
            using var batch = new WriteBatch();
            var count = 0;
            foreach (var (userId, byDevice) in messages)
            {
                if (!UserId.TryParse(userId, out var recipient) || recipient.Server.Value != _server.Value || byDevice is not JsonObject devices)
                    continue;
                foreach (var (deviceId, message) in devices)
                {
                    if (message is JsonObject messageContent)
                        count += Deliver(batch, sender, type, userId, deviceId, messageContent);
                }
            }
            batch.Put(_federationIds, idKey, []);
            _store.Commit(batch);
            _logger.LogDebug("{Origin} delivered {Count} {Type} to-device messages from {Sender}", origin, count, type, sender);
        }
    }

    /// <summary>Stages the message for the local device (every device of the user for <c>*</c>); the number of inboxes it went to.</summary>
    private int Deliver(WriteBatch batch, string sender, string type, string userId, string deviceId, JsonObject content)
    {
        var known = _devices.List(userId).Select(d => d.DeviceId).ToList();
        IEnumerable<string> targets = deviceId == "*" ? known : known.Contains(deviceId) ? [deviceId] : [];
        var count = 0;
        foreach (var target in targets)
        {
            _inbox.Stage(batch, userId, target, new JsonObject { ["type"] = type, ["sender"] = sender, ["content"] = content.DeepClone() });
            count++;
        }
        return count;
    }

    /// <summary>The recipients of <c>messages</c> with their servers, checked for shape (<c>M_BAD_JSON</c>).</summary>
    private static List<(string UserId, string Server, List<(string DeviceId, JsonObject Content)> Devices)> Recipients(JsonObject messages)
    {
        var recipients = new List<(string, string, List<(string, JsonObject)>)>();
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
            recipients.Add((userId, parsed.Server.Value, list));
        }
        return recipients;
    }

    private static string? Text(JsonObject content, string name) =>
        content[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private Lock Stripe(string userId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_stripes.Length];
}
