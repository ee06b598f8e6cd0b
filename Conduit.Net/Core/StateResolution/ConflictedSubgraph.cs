namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// State resolution v2.1, definitions, "Conflicted state subgraph": every event on an
/// <c>auth_events</c> path from one conflicted event to another, endpoints included. An event is on such
/// a path exactly when it is reachable from a conflicted event and a conflicted event is reachable from
/// it; so walk down from the conflicted events, then back up from them along the edges walked down.
/// </summary>
internal static class ConflictedSubgraph
{
    public static HashSet<string> Compute(IReadOnlySet<string> conflicted, EventGraph graph)
    {
        var below = new HashSet<string>(conflicted, StringComparer.Ordinal);
        var citedBy = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var pending = new Stack<string>(conflicted);
        while (pending.TryPop(out var eventId))
        {
            if (graph.Find(eventId) is not { } ev)
                continue;
            foreach (var authId in ev.AuthEvents)
            {
                if (!citedBy.TryGetValue(authId, out var citing))
                    citedBy[authId] = citing = [];
                citing.Add(eventId);
                if (below.Add(authId))
                    pending.Push(authId);
            }
        }

        var subgraph = new HashSet<string>(conflicted, StringComparer.Ordinal);
        foreach (var eventId in conflicted)
            pending.Push(eventId);
        while (pending.TryPop(out var eventId))
        {
            if (!citedBy.TryGetValue(eventId, out var citing))
                continue;
            foreach (var citingId in citing)
            {
                if (subgraph.Add(citingId))
                    pending.Push(citingId);
            }
        }
        return subgraph;
    }
}
