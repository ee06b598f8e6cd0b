using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// The resolution of a set of room states, by the algorithm of the room version: room version 1's
/// (<see cref="StateResolutionV1"/>), room version 2's "State resolution" (v2), or its v2.1 revision for
/// room version 12. Pure: events come from the caller's <see cref="IStateResolutionEvents"/>, and the
/// same inputs give the same state whatever the order of the state sets.
/// </summary>
public static class StateResolver
{
    /// <summary>
    /// Resolves <paramref name="stateSets"/> (each a map from <c>(type, state_key)</c> to an event id) into
    /// one state map. Events the caller does not have cannot be authorized, so a conflicted event that is
    /// missing drops out; an unconflicted one is kept as is.
    /// </summary>
    public static Dictionary<StateKey, string> Resolve(
        RoomVersion version,
        IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets,
        IStateResolutionEvents events)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(stateSets);
        ArgumentNullException.ThrowIfNull(events);
        var graph = new EventGraph(events, version);
        return version.StateResolution == StateResolutionAlgorithm.V1
            ? StateResolutionV1.Resolve(stateSets, graph)
            : ResolveV2(stateSets, graph);
    }

    private static Dictionary<StateKey, string> ResolveV2(IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets, EventGraph graph)
    {
        var version = graph.Version;
        var (unconflicted, conflicted) = ConflictSplit.Split(stateSets);
        if (conflicted.Count == 0)
            return unconflicted;

        var fullConflictedIds = AuthDifference.Compute(stateSets, graph);
        fullConflictedIds.UnionWith(conflicted);
        if (version.StateResolution == StateResolutionAlgorithm.V2Dot1)
            fullConflictedIds.UnionWith(ConflictedSubgraph.Compute(conflicted, graph));
        var fullConflictedSet = new List<ResolutionEvent>(fullConflictedIds.Count);
        foreach (var eventId in fullConflictedIds)
        {
            if (graph.Find(eventId) is { Key: not null } ev)
                fullConflictedSet.Add(ev);
        }

        // 1. The power events of the full conflicted set and the conflicted events they depend on, in
        //    reverse topological power ordering.
        var powerIds = PowerEvents.WithTheirConflictedAuthChains(fullConflictedSet, fullConflictedIds, graph);
        var powerEvents = fullConflictedSet.Where(ev => powerIds.Contains(ev.Id)).ToList();
        var orderedPowerEvents = ReverseTopologicalPowerOrdering.Sort(powerEvents, graph);

        // 2. Iterative auth checks over them, from the unconflicted state map (v2) or from an empty
        //    state map (v2.1).
        var state = version.StateResolution == StateResolutionAlgorithm.V2Dot1
            ? new Dictionary<StateKey, string>()
            : new Dictionary<StateKey, string>(unconflicted);
        IterativeAuthChecks.Apply(state, orderedPowerEvents, graph);

        // 3. The remaining events in mainline ordering based on the partially resolved power levels.
        var remaining = fullConflictedSet.Where(ev => !powerIds.Contains(ev.Id));
        state.TryGetValue(new StateKey(EventTypes.PowerLevels, ""), out var powerLevelsId);
        var orderedRemaining = MainlineOrdering.Sort(remaining, powerLevelsId, graph);

        // 4. Iterative auth checks over them, on top of the partially resolved state.
        IterativeAuthChecks.Apply(state, orderedRemaining, graph);

        // 5. Every key of the unconflicted state map takes the unconflicted event.
        foreach (var (key, eventId) in unconflicted)
            state[key] = eventId;
        return state;
    }
}
