using Conduit.Net.Core.Auth;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Ephemeral;

/// <summary>
/// The questions receipts, typing and presence ask the rooms service: who is joined where, and
/// whether an event is one of a room's that a user may see. Answers come from the membership
/// indexes and history visibility, never from a timeline scan.
/// </summary>
public sealed class RoomAccess
{
    private readonly RoomEvents _events;
    private readonly HistoryVisibility _visibility;

    public RoomAccess(RoomEvents events, HistoryVisibility visibility)
    {
        _events = events;
        _visibility = visibility;
    }

    /// <summary>Whether <paramref name="userId"/>'s current membership in the room is <c>join</c>.</summary>
    public bool IsJoined(string roomId, string userId) =>
        _events.Ids.FindRoom(roomId) is { } shortRoomId
        && _events.Members.Get(shortRoomId, userId)?.Membership == Membership.Join;

    /// <summary>The rooms <paramref name="userId"/> is joined to.</summary>
    public IReadOnlyList<string> JoinedRooms(string userId) =>
        [.. _events.Members.RoomsOf(userId, Membership.Join).Select(room => room.RoomId)];

    /// <summary>
    /// The timeline position of <paramref name="eventId"/> when it is an event of the room that
    /// <paramref name="userId"/> may see (history visibility); null when it is unknown, of another
    /// room, or hidden from them.
    /// </summary>
    public long? VisibleEventPosition(string roomId, string userId, string eventId)
    {
        if (_events.Find(roomId) is not { } room || _events.Ids.FindEvent(eventId) is not { } shortEventId)
            return null;
        if (_events.Timeline.Get(shortEventId) is not { } stored || stored.ShortRoomId != room.ShortRoomId)
            return null;
        return _visibility.ForUser(userId, room).MaySee(stored) ? stored.Position : null;
    }
}
