using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.Filters;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Sync;

/// <summary>What to read of one room for a sync.</summary>
/// <param name="StateFrom">The position whose state the client has (<c>since</c>), or null to send the full state.</param>
/// <param name="TimelineAfter">Timeline events after this position (exclusive) are new; null: the room's latest events.</param>
/// <param name="UpTo">The last position of the window: the pass's watermark, or the user's leave event.</param>
/// <param name="StateVisible">False for a left room the user never joined: no state at all.</param>
/// <param name="WithSummary">Whether the room gets a <c>summary</c> (joined rooms).</param>
public sealed record RoomWindow(long? StateFrom, long? TimelineAfter, long UpTo, bool StateVisible, bool WithSummary);

/// <summary>A room's timeline, state and summary for one sync, ready to be written into its entry.</summary>
public sealed class RoomView
{
    public required JsonObject Timeline { get; init; }

    public required JsonArray State { get; init; }

    public JsonObject? Summary { get; init; }

    /// <summary>Whether any of it is news for an incremental sync.</summary>
    public bool HasNews => ((JsonArray)Timeline["events"]!).Count > 0 || State.Count > 0 || Summary is not null;

    public void WriteTo(JsonObject entry, string stateField)
    {
        entry["timeline"] = Timeline;
        entry[stateField] = new JsonObject { ["events"] = State };
        if (Summary is not null)
            entry["summary"] = Summary;
    }
}

/// <summary>
/// One room's part of a sync ("Syncing" in the spec): the latest events of the window as the
/// timeline (at most the filter's limit, <c>limited</c> and a <c>prev_batch</c> that
/// <c>/messages</c> takes when more arrived), the state (in full, or what changed since the
/// client's position), lazy-loaded members, and the room summary.
/// </summary>
/// <remarks>
/// <para>
/// The state is the state at the start of the returned timeline, as the spec defines it, with one
/// correction: a state change made inside the window by an event the timeline does not show
/// (hidden by the filter or by history visibility) is reported with its value at the end, so that
/// state plus timeline always leads the client to the room's real state.
/// </para>
/// <para>
/// Lazy-loading keeps the member events of the timeline's senders, the user's own on a full sync,
/// the heroes', and every member event that changed in the gap of an incremental sync. Without a
/// record of what each device was sent, the senders' member events are sent again in every sync
/// they are needed in: the spec allows such redundant members, and it makes
/// <c>include_redundant_members</c> hold by construction.
/// </para>
/// </remarks>
public sealed class RoomWindows
{
    public const int DefaultTimelineLimit = 10;
    public const int MaxTimelineLimit = 1000;

    /// <summary>Events looked at beyond the limit, so that a window of hidden events cannot make one sync unbounded.</summary>
    private const int MaxScanned = 2000;

    private const int MaxHeroes = 5;
    private const string RoomName = "m.room.name";
    private const string CanonicalAlias = "m.room.canonical_alias";

    private readonly RoomEvents _events;
    private readonly RoomService _rooms;
    private readonly HistoryVisibility _visibility;

    public RoomWindows(RoomEvents events, RoomService rooms, HistoryVisibility visibility)
    {
        _events = events;
        _rooms = rooms;
        _visibility = visibility;
    }

    public RoomView Read(SyncPass pass, RoomSnapshot room, RoomWindow window)
    {
        var roomFilter = pass.Filter.Room;
        var limit = roomFilter.Timeline.LimitOr(DefaultTimelineLimit, MaxTimelineLimit);
        var (events, limited) = ReadTimeline(room, window, limit, roomFilter.Timeline, _visibility.ForClient(pass.UserId, room), pass.UserId);
        var inTimeline = events.Select(e => e.ShortEventId).ToHashSet();

        var end = _events.StateAtPosition(room, window.UpTo);
        var previous = window.StateFrom is { } from ? _events.StateAtPosition(room, from) : StateSet.Empty;
        JsonObject? summary = null;
        List<string> heroes = [];
        if (window.WithSummary && (window.StateFrom is null || MembersChanged(previous, end)))
            summary = Summary(room, end, pass.UserId, heroes);

        var state = new JsonArray();
        if (window.StateVisible)
        {
            var useStateAfter = pass.Request.UseStateAfter;
            var target = useStateAfter ? end : StateForTimelineStart(events, end, inTimeline);
            var changed = StateSet.Diff(previous, target).Added.Where(e => useStateAfter || !inTimeline.Contains(e.Event));
            if (roomFilter.State.LazyLoadMembers)
                changed = LazyLoad(changed, target, window.StateFrom is null, events, heroes, pass.UserId, inTimeline, useStateAfter);
            foreach (var entry in changed)
            {
                if (_events.Timeline.Get(entry.Event) is { } stored && roomFilter.State.Matches(room.RoomId, stored.Type, stored.Sender, stored.Content))
                    state.Add((JsonNode)Format(stored, room, pass, inState: true));
            }
        }

        var timelineEvents = new JsonArray();
        foreach (var stored in events)
            timelineEvents.Add((JsonNode)Format(stored, room, pass, inState: false));
        var prevBatch = events.Count > 0 ? events[0].Position - 1 : window.UpTo;
        return new RoomView
        {
            Timeline = new JsonObject
            {
                ["events"] = timelineEvents,
                ["limited"] = limited,
                ["prev_batch"] = TimelineToken.Format(prevBatch),
            },
            State = state,
            Summary = summary,
        };
    }

    /// <summary>The member event of <paramref name="userId"/> in <paramref name="state"/>, or null.</summary>
    public static StoredEvent? MemberIn(RoomEvents events, StateSet state, string userId) =>
        events.Ids.FindStateKey(EventTypes.Member, userId) is { } key && state.Get(key) is { } shortEventId
            ? events.Timeline.Get(shortEventId)
            : null;

    /// <summary>
    /// The window's latest events the filter and history visibility let through, oldest first, at
    /// most <paramref name="limit"/>; limited when there are more (or too many hidden ones to look at).
    /// The user's own leave and ban events always pass visibility: without them a rejected invite,
    /// whose leave the rule hides in a <c>shared</c> room, would never leave the client's room list.
    /// </summary>
    private (List<StoredEvent> Events, bool Limited) ReadTimeline(
        RoomSnapshot room, RoomWindow window, int limit, RoomEventFilter filter, HistoryVisibility.Checker checker, string userId)
    {
        var events = new List<StoredEvent>();
        var limited = false;
        if (filter.IncludesRoom(room.RoomId))
        {
            var scanned = 0;
            foreach (var stored in _events.Timeline.Range(room.ShortRoomId, window.TimelineAfter, window.UpTo, newestFirst: true))
            {
                if (++scanned > MaxScanned + limit)
                {
                    limited = true;
                    break;
                }
                if (!filter.Matches(room.RoomId, stored.Type, stored.Sender, stored.Content) || !(checker.MaySee(stored) || IsOwnDeparture(stored, userId)))
                    continue;
                if (events.Count == limit)
                {
                    limited = true;
                    break;
                }
                events.Add(stored);
            }
        }
        events.Reverse();
        return (events, limited);
    }

    /// <summary>
    /// The state before the first timeline event, with the end value of every key that an event
    /// outside the returned timeline changed (see the remarks on the class).
    /// </summary>
    private StateSet StateForTimelineStart(List<StoredEvent> events, StateSet end, HashSet<ulong> inTimeline)
    {
        if (events.Count == 0)
            return end;
        var start = _events.Snapshots.Load(_events.StateBefore(events[0].ShortEventId) ?? 0);
        var hidden = new List<StateEntry>();
        foreach (var entry in end.Entries)
        {
            if (start.Get(entry.Key) != entry.Event && !inTimeline.Contains(entry.Event))
                hidden.Add(entry);
        }
        return hidden.Count == 0 ? start : start.Apply(hidden.ToArray(), []);
    }

    private List<StateEntry> LazyLoad(
        IEnumerable<StateEntry> changed, StateSet target, bool full, List<StoredEvent> timeline, List<string> heroes,
        string userId, HashSet<ulong> inTimeline, bool useStateAfter)
    {
        var kept = new List<StateEntry>();
        var seen = new HashSet<ulong>();
        foreach (var entry in changed)
        {
            // On a full sync the members come from the list below; on an incremental one every
            // member event that changed in the gap is kept, as the spec requires.
            if (full && IsMember(entry.Key))
                continue;
            kept.Add(entry);
            seen.Add(entry.Event);
        }

        IEnumerable<string> wanted = timeline.Select(e => e.Sender).Concat(heroes);
        if (full)
            wanted = wanted.Prepend(userId);
        foreach (var member in wanted.Distinct(StringComparer.Ordinal))
        {
            if (_events.Ids.FindStateKey(EventTypes.Member, member) is { } key && target.Get(key) is { } shortEventId
                && (useStateAfter || !inTimeline.Contains(shortEventId)) && seen.Add(shortEventId))
                kept.Add(new StateEntry(key, shortEventId));
        }
        return kept;
    }

    private static bool IsOwnDeparture(StoredEvent stored, string userId) =>
        stored.Type == EventTypes.Member && stored.StateKey == userId && stored.Membership is Core.Auth.Membership.Leave or Core.Auth.Membership.Ban;

    private bool IsMember(ulong shortStateKey) => _events.Ids.StateKeyOf(shortStateKey).Type == EventTypes.Member;

    private bool MembersChanged(StateSet previous, StateSet end)
    {
        var (added, removed) = StateSet.Diff(previous, end);
        return added.Any(e => IsMember(e.Key)) || removed.Any(e => IsMember(e.Key));
    }

    /// <summary>
    /// The room summary: member counts, and the heroes when the room has neither a name nor a
    /// canonical alias (the first five other joined or invited members in stream order, or the
    /// ones who left when there are none); <paramref name="heroes"/> receives them for lazy-loading.
    /// </summary>
    private JsonObject Summary(RoomSnapshot room, StateSet end, string userId, List<string> heroes)
    {
        var summary = new JsonObject();
        if (!HasStringField(end, RoomName, "name") && !HasStringField(end, CanonicalAlias, "alias"))
        {
            heroes.AddRange(Heroes(end, userId));
            summary["m.heroes"] = new JsonArray([.. heroes.Select(h => (JsonNode)h)]);
        }
        summary["m.joined_member_count"] = _events.Members.Count(room.ShortRoomId, Core.Auth.Membership.Join);
        summary["m.invited_member_count"] = _events.Members.Count(room.ShortRoomId, Core.Auth.Membership.Invite);
        return summary;
    }

    private List<string> Heroes(StateSet state, string userId)
    {
        var members = new List<(ulong Event, string User)>();
        foreach (var entry in state.Entries)
        {
            var (type, stateKey) = _events.Ids.StateKeyOf(entry.Key);
            if (type == EventTypes.Member && stateKey != userId)
                members.Add((entry.Event, stateKey));
        }

        // Short event ids come from the global counter, so their order is the stream order.
        members.Sort((a, b) => a.Event.CompareTo(b.Event));
        var present = new List<string>();
        var gone = new List<string>();
        foreach (var (shortEventId, user) in members)
        {
            var membership = _events.Timeline.Get(shortEventId)?.Membership;
            if (membership is Core.Auth.Membership.Join or Core.Auth.Membership.Invite)
            {
                present.Add(user);
                if (present.Count == MaxHeroes)
                    break;
            }
            else if (gone.Count < MaxHeroes)
            {
                gone.Add(user);
            }
        }
        return present.Count > 0 ? present : gone;
    }

    private bool HasStringField(StateSet state, string type, string field)
    {
        if (_events.Ids.FindStateKey(type, "") is not { } key || state.Get(key) is not { } shortEventId || _events.Timeline.Get(shortEventId) is not { } stored)
            return false;
        return stored.Content.TryGetProperty(field, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String && value.GetString()!.Length > 0;
    }

    /// <summary>
    /// An event as sync returns it: the client format without <c>room_id</c> (or the federation
    /// format), in the state form for the state section, projected to the filter's fields.
    /// </summary>
    private JsonObject Format(StoredEvent stored, RoomSnapshot room, SyncPass pass, bool inState)
    {
        JsonObject ev;
        if (pass.Filter.EventFormat == EventFormat.Federation)
        {
            ev = stored.ToJsonObject();
        }
        else
        {
            ev = inState ? _rooms.FormatState(stored, room, pass.UserId) : _rooms.Format(stored, room, pass.UserId, pass.Request.DeviceId);
            ev.Remove("room_id");
        }
        return pass.Filter.ProjectFields(ev);
    }
}
