using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Iterative auth checks": apply each state event in order to the state if the
/// authorization rules allow it against that state, otherwise skip it. A key the rules need that the
/// state lacks is taken from the event's own auth events, unless that auth event was rejected.
/// </summary>
/// <remarks>
/// The events are checked with the state-dependent rules (<see cref="EventAuth.Check"/>): every event
/// that reaches resolution has already passed the checks on its own auth events (rule 3), which do
/// not depend on the state being built.
/// </remarks>
internal static class IterativeAuthChecks
{
    public static void Apply(Dictionary<StateKey, string> state, IEnumerable<ResolutionEvent> ordered, EventGraph graph)
    {
        var lookup = new PartialState(state, graph);
        foreach (var ev in ordered)
        {
            if (ev.Key is not { } key)
                continue;
            lookup.CheckingAgainst(ev);
            if (EventAuth.Check(ev.Pdu, lookup).IsAllowed)
                state[key] = ev.Id;
        }
    }

    /// <summary>The state built so far, falling back to the auth events of the event being checked.</summary>
    private sealed class PartialState(Dictionary<StateKey, string> state, EventGraph graph) : IStateLookup
    {
        private readonly Dictionary<StateKey, ResolutionEvent> fromAuthEvents = [];

        public void CheckingAgainst(ResolutionEvent ev)
        {
            fromAuthEvents.Clear();
            foreach (var authId in ev.AuthEvents)
            {
                if (graph.Find(authId) is { Rejected: false, Key: { } key } auth)
                    fromAuthEvents.TryAdd(key, auth);
            }
            // Where the room id names the create event, no event lists it among its auth events.
            if (!graph.Version.CreateEventInAuthEvents && graph.CreateEventOf(ev) is { Rejected: false, Key: { } createKey } create)
                fromAuthEvents.TryAdd(createKey, create);
        }

        public Pdu? Find(string type, string stateKey)
        {
            var key = new StateKey(type, stateKey);
            if (state.TryGetValue(key, out var eventId) && graph.Find(eventId) is { } current)
                return current.Pdu;
            return fromAuthEvents.TryGetValue(key, out var auth) ? auth.Pdu : null;
        }
    }
}
