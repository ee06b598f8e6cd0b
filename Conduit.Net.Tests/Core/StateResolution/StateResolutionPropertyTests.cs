using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;
using static Conduit.Net.Tests.Core.StateResolution.RoomGraph;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>
/// Properties of the algorithm rather than outcomes of races: the order of the state sets does not
/// matter, the reverse topological power ordering breaks ties as the spec says, and long auth chains
/// resolve without deep recursion, fetching each event once.
/// </summary>
[TestFixtureSource(nameof(Versions))]
public sealed class StateResolutionPropertyTests(RoomVersion version)
{
    public static readonly RoomVersion[] Versions = [RoomVersion.V11, RoomVersion.V12];

    [Test]
    public void The_order_of_the_state_sets_does_not_change_the_result()
    {
        var results = ThreeBranchesResolvedInEveryOrder(version);

        Assert.That(results, Has.Count.EqualTo(1));
        Assert.That(results[0], Is.EqualTo("JR MB PA"));
    }

    [Test]
    public void Power_events_of_equally_powerful_senders_apply_in_timestamp_order()
    {
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("JA", Alice, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
                Ev.State("JB", Alice, EventTypes.JoinRules, """{"join_rule":"knock"}"""),
            ],
            ["END", "JA", "START"],
            ["END", "JB", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("JB"));
    }

    [Test]
    public void A_more_powerful_sender_s_power_event_applies_first_whatever_the_timestamps()
    {
        // Bob's change (J1) is older than Alice's (J2), but Alice outranks him, so hers applies first and
        // his, still allowed after it, is the one that stays.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50}}"""),
                Ev.State("J1", Bob, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
                Ev.State("J2", Alice, EventTypes.JoinRules, """{"join_rule":"knock"}"""),
            ],
            ["END", "J1", "PA", "START"],
            ["END", "J2", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("J1 PA"));
    }

    [Test]
    public void Without_conflicts_the_state_is_returned_as_is()
    {
        var graph = RoomGraph.Build(version, [], ["END", "START"]);

        var resolved = graph.Resolve(graph.StateAfter("START"), graph.StateAfter("START"));

        Assert.That(resolved, Is.EquivalentTo(graph.StateAfter("START")));
    }

    [Test]
    public void Ten_thousand_power_levels_events_in_one_auth_chain_resolve_fetching_each_event_once()
    {
        const int Count = 10_000;
        var events = new List<Ev>();
        var chain = new List<string> { "TA" };
        for (var i = Count; i >= 1; i--)
        {
            events.Add(Ev.State($"PL{i}", Alice, EventTypes.PowerLevels, $$$"""{"users":{"@alice:example.com":100,"@bob:example.com":{{{i % 50}}}}}"""));
            chain.Add($"PL{i}");
        }
        chain.Add("START");
        events.Add(Ev.State("TA", Alice, "m.room.topic", """{"topic":"newest"}"""));
        events.Add(Ev.State("TB", Alice, "m.room.topic", """{"topic":"on the first power levels"}"""));
        var graph = RoomGraph.Build(version, events, [.. chain], ["TB", "PL1"]);
        graph.Lookups.Clear();

        var resolved = graph.Resolve(graph.StateAfter("TA"), graph.StateAfter("TB"));

        Assert.That(graph.Name(resolved[new StateKey(EventTypes.PowerLevels, "")]), Is.EqualTo($"PL{Count}"));
        Assert.That(graph.Name(resolved[new StateKey("m.room.topic", "")]), Is.EqualTo("TA"));
        Assert.That(graph.Lookups.Values.Max(), Is.EqualTo(1));
    }
}
