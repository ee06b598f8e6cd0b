using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Mainline ordering": the mainline of the resolved power levels event P is P and the
/// chain of power levels events below it through <c>auth_events</c>. An event's mainline position is
/// the index in that list of the first power levels event its own chain reaches, or infinity; events
/// sort by greater position first, then lower <c>origin_server_ts</c>, then lower event id.
/// </summary>
internal static class MainlineOrdering
{
    private const int Infinity = int.MaxValue;

    public static List<ResolutionEvent> Sort(IEnumerable<ResolutionEvent> events, string? powerLevelsEventId, EventGraph graph)
    {
        // position holds the mainline's own indexes first; walks add the power levels events they pass.
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        var index = 0;
        for (var p = powerLevelsEventId is null ? null : graph.Find(powerLevelsEventId);
             p is not null && position.TryAdd(p.Id, index);
             p = graph.AuthEventFor(p, EventTypes.PowerLevels, ""))
        {
            index++;
        }

        var keyed = events.Select(ev => (Event: ev, Position: PositionOf(ev, position, graph))).ToList();
        keyed.Sort((x, y) =>
        {
            var byPosition = y.Position.CompareTo(x.Position);
            return byPosition != 0 ? byPosition : ResolutionEvent.ByTimestampThenId(x.Event, y.Event);
        });
        return [.. keyed.Select(pair => pair.Event)];
    }

    /// <summary>
    /// Walks e1, e2, ... (the event itself is not looked at) until one is on the mainline or already known
    /// from an earlier walk, then remembers the answer for every power levels event passed on the way.
    /// </summary>
    private static int PositionOf(ResolutionEvent ev, Dictionary<string, int> position, EventGraph graph)
    {
        var passed = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var found = Infinity;
        for (var e = graph.AuthEventFor(ev, EventTypes.PowerLevels, ""); e is not null && seen.Add(e.Id); e = graph.AuthEventFor(e, EventTypes.PowerLevels, ""))
        {
            if (position.TryGetValue(e.Id, out found))
                break;
            found = Infinity;
            passed.Add(e.Id);
        }
        foreach (var id in passed)
            position[id] = found;
        return found;
    }
}
