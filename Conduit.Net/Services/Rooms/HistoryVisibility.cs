using System.Text.Json;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.AccountData;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// "May this user see this event?" — the one rule ("Room History Visibility", server behaviour)
/// behind every endpoint that returns events: based on the room's <c>m.room.history_visibility</c>
/// and the user's membership in the state at the event.
/// </summary>
/// <remarks>
/// The state at an event is the state before it. The two kinds of event that change what the rule
/// reads get the spec's exception: an <c>m.room.history_visibility</c> event is visible if the
/// setting before or after it allows it, and a user's own <c>m.room.member</c> event if their
/// membership before or after it does. "Joined at any point after the event" comes from the user's
/// membership changes in the room (<see cref="ForUser"/> reads them once per request).
/// </remarks>
public sealed class HistoryVisibility
{
    public const string WorldReadable = "world_readable";
    public const string Shared = "shared";
    public const string Invited = "invited";
    public const string Joined = "joined";

    private readonly RoomEvents _events;
    private readonly IgnoredUsers _ignoredUsers;

    public HistoryVisibility(RoomEvents events, IgnoredUsers ignoredUsers)
    {
        _events = events;
        _ignoredUsers = ignoredUsers;
    }

    /// <summary>A checker for one user in one room, for any number of events of that room.</summary>
    public Checker ForUser(string userId, RoomSnapshot room) => new(this, userId, room, ignored: null);

    /// <summary>
    /// A checker for the events served to a client of <paramref name="userId"/>: history visibility,
    /// and no event but state events sent by a user they ignore ("Ignoring Users": state events are
    /// still sent, so that the room looks the same).
    /// </summary>
    public Checker ForClient(string userId, RoomSnapshot room) => new(this, userId, room, _ignoredUsers.Of(userId));

    /// <summary>The history visibility in force in snapshot <paramref name="stateHash"/> (<c>shared</c> when unset or unknown).</summary>
    public string VisibilityAt(ulong stateHash) =>
        Read(_events.StateEventAt(stateHash, EventTypes.HistoryVisibility, ""));

    private static string Read(StoredEvent? visibilityEvent)
    {
        if (visibilityEvent is not null
            && visibilityEvent.Content.TryGetProperty("history_visibility", out var value)
            && value.ValueKind == JsonValueKind.String
            && value.GetString() is WorldReadable or Shared or Invited or Joined)
            return value.GetString()!;
        return Shared;
    }

    /// <summary>Answers "may see" for one user in one room.</summary>
    public sealed class Checker
    {
        private readonly HistoryVisibility _owner;
        private readonly string _userId;
        private readonly RoomSnapshot _room;
        private readonly IReadOnlySet<string>? _ignored;
        private List<long>? _joins;

        internal Checker(HistoryVisibility owner, string userId, RoomSnapshot room, IReadOnlySet<string>? ignored)
        {
            _owner = owner;
            _userId = userId;
            _room = room;
            _ignored = ignored;
        }

        public bool MaySee(StoredEvent stored)
        {
            if (_ignored is { Count: > 0 } && !stored.IsState && _ignored.Contains(stored.Sender))
                return false;
            var events = _owner._events;
            if (events.StateBefore(stored.ShortEventId) is not { } before)
                return false;
            var visibility = _owner.VisibilityAt(before);
            var membership = events.StateEventAt(before, EventTypes.Member, _userId)?.Membership ?? Membership.Leave;
            if (Allows(visibility, membership, stored))
                return true;
            if (stored.Type == EventTypes.HistoryVisibility && stored.StateKey == "" && Allows(Read(stored), membership, stored))
                return true;
            return stored.Type == EventTypes.Member && stored.StateKey == _userId && stored.Membership is { } after && Allows(visibility, after, stored);
        }

        private bool Allows(string visibility, string membership, StoredEvent stored) =>
            visibility == WorldReadable
            || membership == Membership.Join
            || (visibility == Shared && JoinedAfter(stored.Position))
            || (visibility == Invited && membership == Membership.Invite);

        /// <summary>Whether the user joined the room at some position after <paramref name="position"/>.</summary>
        private bool JoinedAfter(long position)
        {
            _joins ??= [.. _owner._events.Members.ChangesSince(_userId, long.MinValue)
                .Where(c => c.RoomId == _room.RoomId && c.Membership == Membership.Join)
                .Select(c => c.Position)];
            return _joins.Count > 0 && _joins[^1] > position;
        }
    }
}
