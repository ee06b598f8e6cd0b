using System.Text.Json.Nodes;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Keys;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Receipts;
using Conduit.Net.Services.ToDevice;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// The EDUs of inbound transactions, each handed to the service it belongs to. A server speaks only
/// for its own users: an EDU about another server's user is ignored (and logged).
/// </summary>
public sealed class InboundEdus(
    TypingService typing,
    ReceiptService receipts,
    PresenceService presence,
    ToDeviceService toDevice,
    DeviceLists deviceLists,
    ILogger<InboundEdus> logger)
{
    public Task ReceiveAsync(string origin, string eduType, JsonObject content, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        switch (eduType)
        {
            case "m.typing":
                ReceiveTyping(origin, content);
                break;
            case "m.receipt":
                ReceiveReceipts(origin, content);
                break;
            case OutboundEdus.Presence:
                ReceivePresence(origin, content);
                break;
            case OutboundEdus.DeviceListUpdate:
            case OutboundEdus.SigningKeyUpdate:
                if (Text(content, "user_id") is { } userId && IsOwnUser(origin, userId))
                    deviceLists.RemoteUserChanged(userId);
                break;
            case ToDeviceService.DirectToDevice:
                toDevice.Receive(origin, content);
                break;
            default:
                logger.LogDebug("Ignored an EDU of type {EduType} from {Origin}", eduType, origin);
                break;
        }
        return Task.CompletedTask;
    }

    private void ReceiveTyping(string origin, JsonObject content)
    {
        if (Text(content, "room_id") is not { } roomId || !RoomId.TryParse(roomId, out _)
            || Text(content, "user_id") is not { } userId
            || content["typing"] is not JsonValue typingValue || !typingValue.TryGetValue<bool>(out var isTyping))
        {
            logger.LogDebug("Ignored a malformed m.typing EDU from {Origin}", origin);
            return;
        }
        if (IsOwnUser(origin, userId))
            typing.SetRemoteTyping(userId, roomId, isTyping);
    }

    /// <summary><c>{roomId: {"m.read": {userId: {event_ids, data: {thread_id?}}}}}</c>; other receipt types are not federated.</summary>
    private void ReceiveReceipts(string origin, JsonObject content)
    {
        foreach (var (roomId, byType) in content)
        {
            if (!RoomId.TryParse(roomId, out _) || byType?[ReceiptService.Read] is not JsonObject byUser)
                continue;
            foreach (var (userId, receipt) in byUser)
            {
                if (!IsOwnUser(origin, userId) || receipt?["event_ids"] is not JsonArray eventIds)
                    continue;
                var threadId = receipt["data"] is JsonObject data ? Text(data, "thread_id") : null;
                foreach (var eventId in eventIds.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var id) ? id : null).OfType<string>())
                    receipts.SetRemoteReceipt(userId, roomId, eventId, threadId);
            }
        }
    }

    /// <summary><c>{push: [{user_id, presence, status_msg?, last_active_ago, currently_active?}]}</c>; malformed entries are skipped.</summary>
    private void ReceivePresence(string origin, JsonObject content)
    {
        foreach (var update in (content["push"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Text(update, "user_id") is not { } userId || Text(update, "presence") is not { } state || !IsOwnUser(origin, userId))
                continue;
            var lastActiveAgo = update["last_active_ago"] is JsonValue ago && ago.TryGetValue<long>(out var value) ? value : 0;
            var currentlyActive = update["currently_active"] is JsonValue active && active.TryGetValue<bool>(out var flag) && flag;
            presence.ReceiveRemote(userId, state, Text(update, "status_msg"), lastActiveAgo, currentlyActive);
        }
    }

    /// <summary>Whether <paramref name="userId"/> belongs to <paramref name="origin"/>, the server that sent the EDU.</summary>
    private bool IsOwnUser(string origin, string userId)
    {
        if (UserId.TryParse(userId, out var parsed) && parsed.Server.Value == origin)
            return true;
        logger.LogInformation("Ignored an EDU from {Origin} about {UserId}, a user of another server", origin, userId);
        return false;
    }

    private static string? Text(JsonObject content, string name) =>
        content[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
