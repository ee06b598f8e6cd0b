using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.AccountData;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the rooms stream of <c>/sync</c>: which rooms go into <c>rooms.join</c>, <c>invite</c>,
/// <c>knock</c> and <c>leave</c>, and for joined and left rooms their timeline, state and summary
/// (<see cref="RoomWindows"/>). Rooms come from the user's membership index, never from a scan of
/// every room: an incremental sync looks at a joined room's timeline only when the room's latest
/// position is past <c>since</c>, and at invites, knocks and leaves only when the user's membership
/// change log has an entry for the room within the window.
/// </summary>
/// <remarks>
/// The membership index may already hold a change committed after the pass's watermark; for such a
/// room the membership the window ends with is read from the room's state at the watermark instead.
/// </remarks>
public sealed class RoomsProvider : ISyncProvider
{
    private readonly RoomEvents _events;
    private readonly RoomWindows _windows;
    private readonly StrippedState _stripped;
    private readonly IgnoredUsers _ignoredUsers;
    private readonly OutOfRoomMemberships _outOfRoom;

    public RoomsProvider(RoomEvents events, RoomWindows windows, StrippedState stripped, IgnoredUsers ignoredUsers, OutOfRoomMemberships outOfRoom)
    {
        _events = events;
        _windows = windows;
        _stripped = stripped;
        _ignoredUsers = ignoredUsers;
        _outOfRoom = outOfRoom;
    }

    /// <summary>Wakes on a membership change of the user (invites, joins, kicks) and on any new event in a room they are joined to.</summary>
    public void Watch(SyncWatch watch)
    {
        watch.Add(_events.Members.WatchUser(watch.UserId, watch.CancellationToken));
        watch.Add(_outOfRoom.Watch(watch.UserId, watch.CancellationToken));
        var joined = _events.Members.RoomsOf(watch.UserId, Membership.Join);
        watch.JoinedRooms = [.. joined.Select(r => r.RoomId)];
        foreach (var room in joined)
        {
            if (_events.Ids.FindRoom(room.RoomId) is { } shortRoomId)
                watch.Add(_events.Timeline.Watch(shortRoomId, watch.CancellationToken));
        }
    }

    public void Write(SyncPass pass)
    {
        var upTo = (long)pass.UpTo;
        long? since = pass.Since is { } s ? (long)s : null;
        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (since is { } from)
        {
            foreach (var change in _events.Members.ChangesSince(pass.UserId, from))
            {
                if (change.Position > upTo)
                    break;
                changed.Add(change.RoomId);
            }
        }

        IReadOnlySet<string>? ignored = null;
        var outOfRoom = _outOfRoom.Of(pass.UserId).Where(r => r.Position <= upTo).ToDictionary(r => r.RoomId, StringComparer.Ordinal);
        foreach (var entry in _events.Members.RoomsOf(pass.UserId))
        {
            if (outOfRoom.ContainsKey(entry.RoomId))
                continue;
            if (_events.Find(entry.RoomId) is not { } room || MembershipAt(room, entry, pass.UserId, upTo) is not { } member)
                continue;
            if (member.Membership == Membership.Join)
                pass.JoinedRooms.Add(room.RoomId);
            if (!pass.Filter.Room.IncludesRoom(room.RoomId))
                continue;
            var inWindow = since is null || changed.Contains(entry.RoomId);
            switch (member.Membership)
            {
                case Membership.Join:
                    WriteJoined(pass, room, since, upTo, inWindow);
                    break;
                case Membership.Invite when inWindow || pass.Request.FullState:
                    // "Servers must not send room invites from ignored users to clients."
                    var invite = member.Event();
                    ignored ??= _ignoredUsers.Of(pass.UserId);
                    if (!ignored.Contains(invite.Sender))
                        pass.Response.InvitedRoom(room.RoomId, _stripped.Of(invite));
                    break;
                case Membership.Knock when inWindow || pass.Request.FullState:
                    pass.Response.KnockedRoom(room.RoomId, _stripped.Of(member.Event()));
                    break;
                case Membership.Leave or Membership.Ban when since is null ? pass.Filter.Room.IncludeLeave : inWindow:
                    WriteLeft(pass, room, member.Event(), since);
                    break;
            }
        }
        foreach (var record in outOfRoom.Values)
        {
            if (pass.Filter.Room.IncludesRoom(record.RoomId))
                WriteOutOfRoom(pass, record, since, ref ignored);
        }
    }

    /// <summary>
    /// A membership made over federation in a room no user of this server is in: an invite or knock with
    /// the stripped state it came with, or the rejection of one as the only event of a left room.
    /// </summary>
    private void WriteOutOfRoom(SyncPass pass, OutOfRoomMembership record, long? since, ref IReadOnlySet<string>? ignored)
    {
        var inWindow = since is null || record.Position > since;
        switch (record.Membership)
        {
            case Membership.Invite when inWindow || pass.Request.FullState:
                ignored ??= _ignoredUsers.Of(pass.UserId);
                if (!ignored.Contains((string?)record.Event["sender"] ?? ""))
                    pass.Response.InvitedRoom(record.RoomId, (JsonArray)record.StrippedState.DeepClone());
                break;
            case Membership.Knock when inWindow || pass.Request.FullState:
                pass.Response.KnockedRoom(record.RoomId, (JsonArray)record.StrippedState.DeepClone());
                break;
            case Membership.Leave or Membership.Ban when since is null ? pass.Filter.Room.IncludeLeave : inWindow:
                ((JsonArray)pass.Response.LeftRoom(record.RoomId)["timeline"]!["events"]!).Add(record.Event.DeepClone());
                break;
        }
    }

    private void WriteJoined(SyncPass pass, RoomSnapshot room, long? since, long upTo, bool membershipChanged)
    {
        var joinedInWindow = since is { } from && membershipChanged && MembershipAt(room, pass.UserId, from) != Membership.Join;
        var full = since is null || pass.Request.FullState || joinedInWindow;
        if (!full && room.LastPosition <= since)
            return;
        if (full)
            pass.FullRooms.Add(room.RoomId);

        // A room joined within the window is new to the client: its latest events as on an initial
        // sync, not only those after since, so that the timeline and prev_batch lead to its history.
        var timelineAfter = joinedInWindow ? null : since;
        var view = _windows.Read(pass, room, new RoomWindow(full ? null : since, timelineAfter, upTo, StateVisible: true, WithSummary: true));
        if (!full && !view.HasNews)
            return;
        view.WriteTo(pass.Response.JoinedRoom(room.RoomId), pass.Response.StateField);
    }

    /// <summary>
    /// A room the user left or was banned from: its timeline up to that event. The state is given
    /// only to a user who was joined until then; someone who rejected an invite or retracted a
    /// knock never had the room's state and gets none now.
    /// </summary>
    private void WriteLeft(SyncPass pass, RoomSnapshot room, StoredEvent leave, long? since)
    {
        var wasJoined = PreviousMembership(leave) == Membership.Join;
        var deltaFrom = since is { } from && !pass.Request.FullState && MembershipAt(room, pass.UserId, from) == Membership.Join ? since : null;
        if (deltaFrom is null)
            pass.FullRooms.Add(room.RoomId);
        var view = _windows.Read(pass, room, new RoomWindow(deltaFrom, since, leave.Position, StateVisible: wasJoined, WithSummary: false));
        view.WriteTo(pass.Response.LeftRoom(room.RoomId), pass.Response.StateField);
    }

    /// <summary>
    /// The user's membership as of position <paramref name="upTo"/> (null when they had none), from
    /// the index entry when it is not newer than that; the member event is read only when asked for.
    /// </summary>
    private Member? MembershipAt(RoomSnapshot room, UserRoom entry, string userId, long upTo)
    {
        if (entry.Position <= upTo)
            return new Member(entry.Membership, () => _events.Timeline.Get(entry.ShortEventId)!);
        var stored = RoomWindows.MemberIn(_events, _events.StateAtPosition(room, upTo), userId);
        return stored?.Membership is { } membership ? new Member(membership, () => stored) : null;
    }

    private string? MembershipAt(RoomSnapshot room, string userId, long position) =>
        RoomWindows.MemberIn(_events, _events.StateAtPosition(room, position), userId)?.Membership;

    /// <summary>The membership a member event replaced, from the <c>prev_content</c> this server stored with it.</summary>
    private static string? PreviousMembership(StoredEvent member) =>
        member.Root.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object
        && unsigned.TryGetProperty("prev_content", out var previous) && previous.ValueKind == JsonValueKind.Object
        && previous.TryGetProperty("membership", out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private sealed record Member(string Membership, Func<StoredEvent> Event);
}
