using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Power events": events that might take an ability away from someone, and algorithm
/// step 1's selection of them together with the conflicted events they depend on.
/// </summary>
internal static class PowerEvents
{
    /// <summary>
    /// <c>m.room.power_levels</c>, <c>m.room.join_rules</c>, or a <c>leave</c> or <c>ban</c> membership sent
    /// by someone else than its target. Only the empty state key makes a power levels or join rules event
    /// the room's; others are ordinary state, as in the deployed implementations.
    /// </summary>
    public static bool IsPowerEvent(ResolutionEvent ev)
    {
        if (ev.Key is not { } key)
            return false;
        if (key.Type is EventTypes.PowerLevels or EventTypes.JoinRules)
            return key.Key.Length == 0;
        return key.Type == EventTypes.Member
            && ev.Membership is "leave" or "ban"
            && !string.Equals(ev.Sender, key.Key, StringComparison.Ordinal);
    }

    /// <summary>
    /// Step 1's set X: the power events of the full conflicted set, enlarged by the events of their auth
    /// chains that are in the full conflicted set too. The walk goes through conflicted events only: an
    /// event outside the set lies in every state set's auth chain, and so does everything below it.
    /// </summary>
    public static HashSet<string> WithTheirConflictedAuthChains(IEnumerable<ResolutionEvent> fullConflictedSet, IReadOnlySet<string> fullConflictedIds, EventGraph graph)
    {
        var selected = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<ResolutionEvent>();
        foreach (var ev in fullConflictedSet)
        {
            if (IsPowerEvent(ev) && selected.Add(ev.Id))
                pending.Push(ev);
        }
        while (pending.TryPop(out var ev))
        {
            foreach (var authId in ev.AuthEvents)
            {
                if (fullConflictedIds.Contains(authId) && graph.Find(authId) is { } auth && selected.Add(authId))
                    pending.Push(auth);
            }
        }
        return selected;
    }
}
