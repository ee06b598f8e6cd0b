namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Reverse topological power ordering": the lexicographically smallest topological order
/// of the auth DAG, earliest first, found with Kahn's algorithm by always taking the smallest ready
/// event: higher sender power level first, then lower <c>origin_server_ts</c>, then lower event id.
/// </summary>
internal static class ReverseTopologicalPowerOrdering
{
    /// <summary>
    /// Orders <paramref name="events"/> by the auth edges among them. Events on a cycle (which valid auth
    /// chains cannot have) never become ready and are left out.
    /// </summary>
    public static List<ResolutionEvent> Sort(IReadOnlyCollection<ResolutionEvent> events, EventGraph graph)
    {
        var members = new HashSet<string>(events.Select(ev => ev.Id), StringComparer.Ordinal);
        var unsortedAuthEvents = new Dictionary<string, int>(StringComparer.Ordinal);
        var citedBy = new Dictionary<string, List<ResolutionEvent>>(StringComparer.Ordinal);
        var ready = new PriorityQueue<ResolutionEvent, ResolutionEvent>(Comparer<ResolutionEvent>.Create((x, y) =>
        {
            var byPower = graph.SenderPowerLevel(y).CompareTo(graph.SenderPowerLevel(x));
            return byPower != 0 ? byPower : ResolutionEvent.ByTimestampThenId(x, y);
        }));
        foreach (var ev in events)
        {
            var count = 0;
            foreach (var authId in ev.AuthEvents)
            {
                if (!members.Contains(authId))
                    continue;
                count++;
                if (!citedBy.TryGetValue(authId, out var citing))
                    citedBy[authId] = citing = [];
                citing.Add(ev);
            }
            unsortedAuthEvents[ev.Id] = count;
            if (count == 0)
                ready.Enqueue(ev, ev);
        }

        var sorted = new List<ResolutionEvent>(events.Count);
        while (ready.TryDequeue(out var ev, out _))
        {
            sorted.Add(ev);
            if (!citedBy.TryGetValue(ev.Id, out var citing))
                continue;
            foreach (var next in citing)
            {
                if (--unsortedAuthEvents[next.Id] == 0)
                    ready.Enqueue(next, next);
            }
        }
        return sorted;
    }
}
