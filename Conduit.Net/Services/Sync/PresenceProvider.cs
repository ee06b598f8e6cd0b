using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the presence stream: <c>m.presence</c> events of the user and of the users who
/// share a room with them, changed in the window (all of them on an initial sync), plus those of
/// the members of a room joined within the window, whom the client did not know before.
/// </summary>
public sealed class PresenceProvider : ISyncProvider
{
    private const string Type = "m.presence";

    private readonly PresenceService _presence;
    private readonly RoomEvents _events;

    public PresenceProvider(PresenceService presence, RoomEvents events)
    {
        _presence = presence;
        _events = events;
    }

    public void Watch(SyncWatch watch) => watch.Add(_presence.Watch(watch.UserId, watch.JoinedRooms, watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ev in _presence.ChangesSince(pass.UserId, pass.JoinedRooms, pass.Since ?? 0, pass.UpTo))
            Add(pass, ev, reported);
        if (pass.Since is null)
            return;
        foreach (var roomId in pass.FullRooms)
        {
            if (!pass.JoinedRooms.Contains(roomId) || _events.Ids.FindRoom(roomId) is not { } shortRoomId)
                continue;
            foreach (var member in _events.Members.Members(shortRoomId, Membership.Join))
            {
                if (!reported.Contains(member) && _presence.PresenceEvent(member) is var ev && !NeverSeen(ev))
                    Add(pass, ev, reported);
            }
        }
    }

    private static void Add(SyncPass pass, JsonObject ev, HashSet<string> reported)
    {
        var sender = (string)ev["sender"]!;
        if (pass.Filter.Presence.Matches(Type, sender) && reported.Add(sender))
            pass.Response.AddPresence(ev);
    }

    /// <summary>Offline without a last active time: nothing a client would show.</summary>
    private static bool NeverSeen(JsonObject ev) =>
        ev["content"] is JsonObject content && (string?)content["presence"] == PresenceService.Offline && content["last_active_ago"] is null;
}
