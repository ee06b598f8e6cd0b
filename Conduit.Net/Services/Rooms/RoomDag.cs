using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// The room's event graph as state sees it: the state after any stored event (the state before it,
/// plus itself unless it was rejected), and the state where branches meet, resolved with the room
/// version's algorithm over the states after each branch's last event. Local and received events use
/// it alike: the state before an event is the resolution over its <c>prev_events</c>, and the room's
/// current state the resolution over its forward extremities.
/// </summary>
public sealed class RoomDag
{
    private readonly RoomEvents _events;

    internal RoomDag(RoomEvents events) => _events = events;

    /// <summary>The state before a stored event: its snapshot hash and the full set.</summary>
    public (ulong Hash, StateSet State) StateBefore(ulong shortEventId, RoomWrite? write = null)
    {
        var hash = _events.Index.Get(shortEventId, write)?.StateBefore
            ?? throw new InvalidDataException($"Event {shortEventId} has no index record.");
        return (hash, _events.Snapshots.Load(hash, write));
    }

    /// <summary>
    /// The state after a stored event. "The state used in the checks should be calculated as normal,
    /// except not updating with the rejected event where it is a state event" (server-server API, "Rejection").
    /// </summary>
    public StateSet StateAfter(ulong shortEventId, RoomWrite? write = null)
    {
        var (_, before) = StateBefore(shortEventId, write);
        var stored = _events.Timeline.GetAny(shortEventId, write)
            ?? throw new InvalidDataException($"Event {shortEventId} is not stored.");
        if (stored.StateKey is not { } stateKey
            || _events.Timeline.GetHidden(shortEventId, write)?.Outcome == HiddenOutcome.Rejected)
            return before;
        var key = _events.Ids.FindStateKey(stored.Type, stateKey, write)
            ?? throw new InvalidDataException($"The state key of event {shortEventId} is not interned.");
        return before.With(new StateEntry(key, shortEventId), out _);
    }

    /// <summary>
    /// The state where the given events meet: the state after the one event, or the resolution of
    /// the states after each of them. The result is not saved; <see cref="StateSnapshots.Save"/> does that.
    /// </summary>
    public StateSet Merge(RoomVersion version, IReadOnlyList<ulong> shortEventIds, RoomWrite write)
    {
        if (shortEventIds.Count == 0)
            return StateSet.Empty;
        var states = shortEventIds.Select(id => StateAfter(id, write)).ToList();
        return Resolve(version, states, write);
    }

    /// <summary>The resolution of <paramref name="states"/>; with no conflict, their common state.</summary>
    public StateSet Resolve(RoomVersion version, IReadOnlyList<StateSet> states, RoomWrite write)
    {
        var distinct = states.DistinctBy(s => Convert.ToHexString(s.Hash())).ToList();
        if (distinct.Count == 1)
            return distinct[0];
        var maps = distinct.Select(s => (IReadOnlyDictionary<StateKey, string>)ToMap(s, write)).ToList();
        var resolved = StateResolver.Resolve(version, maps, new ResolutionEvents(_events, version, write));
        return FromMap(resolved, write);
    }

    private Dictionary<StateKey, string> ToMap(StateSet state, RoomWrite write)
    {
        var map = new Dictionary<StateKey, string>(state.Count);
        foreach (var entry in state.Entries)
        {
            var stored = _events.Timeline.GetAny(entry.Event, write)
                ?? throw new InvalidDataException($"State event {entry.Event} is not stored.");
            map[new StateKey(stored.Type, stored.StateKey!)] = stored.EventId;
        }
        return map;
    }

    private StateSet FromMap(Dictionary<StateKey, string> map, RoomWrite write)
    {
        var entries = new List<StateEntry>(map.Count);
        foreach (var (key, eventId) in map)
        {
            var shortEventId = _events.Ids.FindEvent(eventId, write)
                ?? throw new InvalidDataException($"Resolved state event {eventId} is not stored.");
            entries.Add(new StateEntry(_events.Ids.GetOrCreateStateKey(key.Type, key.Key, write), shortEventId));
        }
        return StateSet.FromUnsorted(entries);
    }

    /// <summary>Events of the room by id for state resolution: every stored one, rejected ones marked.</summary>
    private sealed class ResolutionEvents(RoomEvents events, RoomVersion version, RoomWrite write) : IStateResolutionEvents
    {
        public Pdu? Find(string eventId) =>
            events.Ids.FindEvent(eventId, write) is { } shortEventId && events.Timeline.GetAny(shortEventId, write) is { } stored
                ? events.ToPdu(stored, version, write)
                : null;

        public bool IsRejected(string eventId) =>
            events.Ids.FindEvent(eventId, write) is { } shortEventId
            && events.Timeline.GetHidden(shortEventId, write)?.Outcome == HiddenOutcome.Rejected;
    }
}
