using System.Security.Cryptography;
using System.Text;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// Room version 1's "State resolution": the union of the states without their conflicting keys, then the
/// conflicts resolved in passes: <c>m.room.power_levels</c>, <c>m.room.join_rules</c>, <c>m.room.member</c>,
/// then every other key, each against the state resolved so far.
/// </summary>
/// <remarks>
/// Where the spec's prose leaves a choice, this follows the deployed implementations (Synapse, Dendrite):
/// each key of a pass is checked against the state as it stood when the pass began (plus that key's own
/// progress), so the order of keys within a pass cannot change the answer; and an ordinary key whose
/// events all fail the checks keeps the one with the lowest depth rather than vanishing from the state.
/// </remarks>
internal static class StateResolutionV1
{
    public static Dictionary<StateKey, string> Resolve(
        IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets, EventGraph graph)
    {
        var (resolved, conflicts) = Split(stateSets);
        if (conflicts.Count == 0)
            return resolved;

        // Events the caller does not have cannot be ordered or checked; they drop out of their conflict.
        var candidates = new Dictionary<StateKey, List<ResolutionEvent>>();
        foreach (var (key, eventIds) in conflicts)
        {
            var found = eventIds.Select(graph.Find).OfType<ResolutionEvent>().ToList();
            if (found.Count > 0)
                candidates[key] = DepthThenSha1Ordering.Sort(found);
        }

        ResolveAuthPass(resolved, candidates, key => key is { Type: EventTypes.PowerLevels, Key: "" }, graph);
        ResolveAuthPass(resolved, candidates, key => key.Type == EventTypes.JoinRules, graph);
        ResolveAuthPass(resolved, candidates, key => key.Type == EventTypes.Member, graph);

        // "No other events affect the authorization rules": every remaining key takes, from the highest
        // depth down, the first event that passes in the state resolved so far.
        var choices = new Dictionary<StateKey, string>();
        foreach (var (key, ordered) in candidates)
        {
            var view = new StateView(resolved, graph);
            var chosen = ordered[0];
            for (var i = ordered.Count - 1; i >= 0; i--)
            {
                if (EventAuth.Check(ordered[i].Pdu, view).IsAllowed)
                {
                    chosen = ordered[i];
                    break;
                }
            }
            choices[key] = chosen.Id;
        }
        foreach (var (key, eventId) in choices)
            resolved[key] = eventId;
        return resolved;
    }

    /// <summary>
    /// The definition of a conflict: the states hold different event ids for one key. A key that only
    /// some states hold is not conflicting; the union keeps it.
    /// </summary>
    private static (Dictionary<StateKey, string> Unconflicted, Dictionary<StateKey, HashSet<string>> Conflicts) Split(
        IReadOnlyList<IReadOnlyDictionary<StateKey, string>> stateSets)
    {
        var unconflicted = new Dictionary<StateKey, string>();
        var conflicts = new Dictionary<StateKey, HashSet<string>>();
        foreach (var set in stateSets)
        {
            foreach (var (key, eventId) in set)
            {
                if (conflicts.TryGetValue(key, out var conflicting))
                {
                    conflicting.Add(eventId);
                }
                else if (!unconflicted.TryGetValue(key, out var agreed))
                {
                    unconflicted[key] = eventId;
                }
                else if (!string.Equals(agreed, eventId, StringComparison.Ordinal))
                {
                    conflicts[key] = new HashSet<string>(StringComparer.Ordinal) { agreed, eventId };
                    unconflicted.Remove(key);
                }
            }
        }
        return (unconflicted, conflicts);
    }

    /// <summary>
    /// One pass over the keys whose events affect the authorization rules: in order of ascending depth,
    /// the first event goes into the state unchecked, and each next one replaces it while the rules allow
    /// it; the first refusal ends the key's pass. Resolved keys leave <paramref name="candidates"/>.
    /// </summary>
    private static void ResolveAuthPass(
        Dictionary<StateKey, string> resolved,
        Dictionary<StateKey, List<ResolutionEvent>> candidates,
        Func<StateKey, bool> inPass,
        EventGraph graph)
    {
        var choices = new Dictionary<StateKey, string>();
        foreach (var (key, ordered) in candidates)
        {
            if (!inPass(key))
                continue;
            var view = new StateView(resolved, graph);
            var chosen = ordered[0];
            foreach (var next in ordered.Skip(1))
            {
                view.Override(key, chosen.Id);
                if (!EventAuth.Check(next.Pdu, view).IsAllowed)
                    break;
                chosen = next;
            }
            choices[key] = chosen.Id;
        }
        foreach (var (key, eventId) in choices)
        {
            resolved[key] = eventId;
            candidates.Remove(key);
        }
    }

    /// <summary>The resolved state with at most one key replaced: the key its pass is working on.</summary>
    private sealed class StateView(Dictionary<StateKey, string> resolved, EventGraph graph) : IStateLookup
    {
        private StateKey? overridden;
        private string? overridingId;

        public void Override(StateKey key, string eventId)
        {
            overridden = key;
            overridingId = eventId;
        }

        public Pdu? Find(string type, string stateKey)
        {
            var key = new StateKey(type, stateKey);
            var eventId = key == overridden ? overridingId : resolved.GetValueOrDefault(key);
            return eventId is null ? null : graph.Find(eventId)?.Pdu;
        }
    }

    /// <summary>The spec's order for a conflict: ascending <c>depth</c>, then descending <c>sha1(event_id)</c>.</summary>
    private static class DepthThenSha1Ordering
    {
        public static List<ResolutionEvent> Sort(List<ResolutionEvent> events)
        {
            var keyed = events.Select(ev => (Event: ev, Sha1: Sha1(ev.Id))).ToList();
            keyed.Sort((x, y) =>
            {
                var byDepth = x.Event.Pdu.Depth.CompareTo(y.Event.Pdu.Depth);
                return byDepth != 0 ? byDepth : y.Sha1.AsSpan().SequenceCompareTo(x.Sha1);
            });
            return [.. keyed.Select(pair => pair.Event)];
        }

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "Room version 1 orders events by sha1(event_id); it is a tie-break, not a security property.")]
        private static byte[] Sha1(string eventId) => SHA1.HashData(Encoding.UTF8.GetBytes(eventId));
    }
}
