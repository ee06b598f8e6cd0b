using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// The auth DAG as one resolution sees it: every event fetched from the caller at most once, with the
/// answers that the ordering steps ask repeatedly (a sender's power level) kept for the whole call.
/// </summary>
internal sealed class EventGraph(IStateResolutionEvents source, RoomVersion version)
{
    private readonly Dictionary<string, ResolutionEvent?> events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> senderPowerLevels = new(StringComparer.Ordinal);

    public RoomVersion Version => version;

    /// <summary>The event, or null when the caller does not have it.</summary>
    public ResolutionEvent? Find(string eventId)
    {
        if (events.TryGetValue(eventId, out var known))
            return known;
        var pdu = source.Find(eventId);
        var resolved = pdu is null ? null : new ResolutionEvent(pdu, source.IsRejected(eventId));
        events[eventId] = resolved;
        return resolved;
    }

    /// <summary>The first of the event's auth events with the given type and state key, if the caller has it.</summary>
    public ResolutionEvent? AuthEventFor(ResolutionEvent ev, string type, string stateKey)
    {
        foreach (var id in ev.AuthEvents)
        {
            if (Find(id) is { } auth && auth.Is(type, stateKey))
                return auth;
        }
        return null;
    }

    /// <summary>
    /// The room's create event as <paramref name="ev"/> knows it: from its auth events, or, where the room
    /// version makes the room id name the create event instead, from the room id.
    /// </summary>
    public ResolutionEvent? CreateEventOf(ResolutionEvent ev)
    {
        if (ev.Is(EventTypes.Create, ""))
            return ev;
        if (version.CreateEventInAuthEvents)
            return AuthEventFor(ev, EventTypes.Create, "");
        return Find(EventIds.CreateEventIdOf(ev.Pdu.RoomId).Value);
    }

    /// <summary>
    /// The power level of the event's sender "when looking at their respective auth_events", as the
    /// reverse topological power ordering compares it.
    /// </summary>
    public long SenderPowerLevel(ResolutionEvent ev)
    {
        if (senderPowerLevels.TryGetValue(ev.Id, out var level))
            return level;
        var create = CreateEventOf(ev);
        var powerLevels = AuthEventFor(ev, EventTypes.PowerLevels, "");
        level = PowerLevels.From(create?.Pdu, powerLevels?.Pdu, version).UserLevel(ev.Sender);
        senderPowerLevels[ev.Id] = level;
        return level;
    }
}
