namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Auth difference": the union of the state sets' full auth chains minus their
/// intersection. A state set's full auth chain is taken to hold the set's own events as well as
/// everything reachable from them through <c>auth_events</c>, as the deployed implementations compute
/// it; the difference then never holds an event that every set agrees on.
/// </summary>
internal static class AuthDifference
{
    public static HashSet<string> Compute(IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets, EventGraph graph)
    {
        // How many of the sets' chains hold each event: one walk per set, each event counted once per set.
        var chainsHolding = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        foreach (var set in stateSets)
        {
            seen.Clear();
            foreach (var eventId in set.Values)
            {
                if (seen.Add(eventId))
                    pending.Push(eventId);
            }
            while (pending.TryPop(out var eventId))
            {
                chainsHolding[eventId] = chainsHolding.GetValueOrDefault(eventId) + 1;
                if (graph.Find(eventId) is not { } ev)
                    continue;
                foreach (var authId in ev.AuthEvents)
                {
                    if (seen.Add(authId))
                        pending.Push(authId);
                }
            }
        }

        var difference = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (eventId, count) in chainsHolding)
        {
            if (count < stateSets.Count)
                difference.Add(eventId);
        }
        return difference;
    }
}
