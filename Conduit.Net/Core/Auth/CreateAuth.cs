using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.Auth;

/// <summary>Rule 1: <c>m.room.create</c>, which is checked on its own, without any state.</summary>
public static class CreateAuth
{
    public static AuthResult Check(Pdu create)
    {
        var version = create.Version;

        // 1.1 If it has any prev_events, reject.
        if (create.PrevEvents.Count > 0)
            return Reject("An m.room.create event cannot have prev_events: it starts the room.");

        // 1.2 Version 12: the room id derives from the event, so the event must not carry one.
        // Before: the room id's domain must be the sender's.
        if (version.RoomIdFormat == RoomIdFormat.CreateEventHash)
        {
            if (create.Json.ContainsKey("room_id"))
                return Reject($"In room version {version} the m.room.create event has no room_id: the room id is derived from the event.");
        }
        else if (create.RoomId.Server?.Value != create.Sender.Server.Value)
        {
            return Reject($"The room id {create.RoomId} is not on the server of the sender {create.Sender}.");
        }

        // 1.3 If content.room_version is present and is not a recognised version, reject.
        if (create.Content.TryGetPropertyValue("room_version", out var roomVersion)
            && !(roomVersion is JsonValue value && value.GetValueKind() == JsonValueKind.String && RoomVersion.TryGet(value.GetValue<string>(), out _)))
        {
            return Reject($"The room version {roomVersion?.ToJsonString() ?? "null"} is not one this server recognises.");
        }

        // Versions 1 to 10: if content has no creator property, reject.
        if (!version.CreatorIsSender && !create.Content.ContainsKey("creator"))
            return Reject($"In room version {version} the m.room.create content must name the creator.");

        // 1.4 Version 12: additional_creators, if present, is an array of valid user ids.
        if (version.PrivilegedCreators && create.Content.TryGetPropertyValue("additional_creators", out var additional))
        {
            if (additional is not JsonArray creators)
                return Reject("additional_creators is not an array.");
            foreach (var creator in creators)
            {
                if (creator is not JsonValue text || text.GetValueKind() != JsonValueKind.String || !UserId.TryParse(text.GetValue<string>(), out _))
                    return Reject($"additional_creators holds {creator?.ToJsonString() ?? "null"}, which is not a user id.");
            }
        }

        // 1.5 Otherwise, allow.
        return AuthResult.Allowed;
    }

    private static AuthResult Reject(string reason) => AuthResult.Reject(AuthRule.CreateEvent, reason);
}
