namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Definitions, "Unconflicted state map and conflicted state set": a key present in every state set with
/// the same event is unconflicted; every other event in any set is conflicted. A key missing from some
/// set is conflicted even if the sets that have it agree.
/// </summary>
internal static class ConflictSplit
{
    public static (Dictionary<StateKey, string> Unconflicted, HashSet<string> Conflicted) Split(
        IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets)
    {
        var unconflicted = new Dictionary<StateKey, string>();
        var conflicted = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<StateKey>();
        foreach (var set in stateSets)
            keys.UnionWith(set.Keys);

        foreach (var key in keys)
        {
            string? agreed = null;
            var inEverySetAlike = true;
            foreach (var set in stateSets)
            {
                if (!set.TryGetValue(key, out var eventId))
                    inEverySetAlike = false;
                else if (agreed is null)
                    agreed = eventId;
                else if (!string.Equals(agreed, eventId, StringComparison.Ordinal))
                    inEverySetAlike = false;
            }

            if (inEverySetAlike && agreed is not null)
            {
                unconflicted[key] = agreed;
                continue;
            }
            foreach (var set in stateSets)
            {
                if (set.TryGetValue(key, out var eventId))
                    conflicted.Add(eventId);
            }
        }
        return (unconflicted, conflicted);
    }
}
