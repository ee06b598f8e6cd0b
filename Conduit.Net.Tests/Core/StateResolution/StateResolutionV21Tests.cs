using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;
using static Conduit.Net.Tests.Core.StateResolution.RoomGraph;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>
/// What state resolution v2.1 (room version 12) changes, on the two shapes its proposal was made for:
/// state sets that disagree with the auth chains because one of them holds an outdated event (as a
/// partial <c>/state</c> answer can). Version 11 runs the same DAGs through v2 for contrast.
/// </summary>
public sealed class StateResolutionV21Tests
{
    private static readonly StateKey JoinRulesKey = new(EventTypes.JoinRules, "");
    private static readonly StateKey PowerLevelsKey = new(EventTypes.PowerLevels, "");

    /// <summary>
    /// Alice changes the join rules twice and then leaves. One state set holds the older join rules. The
    /// forks agree that Alice left, so that leave is unconflicted.
    /// </summary>
    private static RoomGraph JoinRulesThenLeave(RoomVersion version) => RoomGraph.Build(
        version,
        [
            Ev.State("JR1", Alice, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
            Ev.State("JR2", Alice, EventTypes.JoinRules, """{"join_rule":"knock"}"""),
            Ev.Member("LA", Alice, Alice, "leave"),
        ],
        ["END", "LA", "JR2", "JR1", "START"]);

    /// <summary>
    /// Alice promotes Bob, Bob promotes Charlie, Charlie changes the power levels and sets the topic. One
    /// state set holds the room's first power levels: its topic's auth chain holds every later power
    /// levels event, so the auth difference is empty.
    /// </summary>
    private static RoomGraph PromotionChain(RoomVersion version) => RoomGraph.Build(
        version,
        [
            Ev.State("PL1", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50}}"""),
            Ev.State("PL2", Bob, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":50}}"""),
            Ev.State("PL3", Charlie, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":50},"events":{"m.room.name":50}}"""),
            Ev.State("T", Charlie, "m.room.topic", """{"topic":"c"}"""),
        ],
        ["END", "T", "PL3", "PL2", "PL1", "START"]);

    [Test]
    public void V2_starts_from_the_unconflicted_state_and_loses_join_rules_whose_sender_left_since()
    {
        var graph = JoinRulesThenLeave(RoomVersion.V11);

        var resolved = graph.Resolve(graph.StateAfter("LA"), graph.StateAfter("LA", "JR1"));

        Assert.That(resolved, Does.Not.ContainKey(JoinRulesKey));
    }

    [Test]
    public void V2_1_starts_the_iterative_auth_checks_from_an_empty_state_and_keeps_the_latest_join_rules()
    {
        var graph = JoinRulesThenLeave(RoomVersion.V12);

        var resolved = graph.Resolve(graph.StateAfter("LA"), graph.StateAfter("LA", "JR1"));

        Assert.That(graph.Name(resolved[JoinRulesKey]), Is.EqualTo("JR2"));
    }

    [Test]
    public void V2_1_still_ends_with_the_unconflicted_state_even_where_the_auth_events_said_otherwise()
    {
        // The join rules were authorized with Alice's join from their auth events; her leave is what both
        // state sets hold, and step 5 puts it back.
        var graph = JoinRulesThenLeave(RoomVersion.V12);

        var resolved = graph.Resolve(graph.StateAfter("LA"), graph.StateAfter("LA", "JR1"));

        Assert.That(graph.Changes(graph.StateAfter("LA"), resolved), Is.Empty);
        Assert.That(graph.Name(resolved[new StateKey(EventTypes.Member, Alice)]), Is.EqualTo("LA"));
    }

    [Test]
    public void V2_resets_the_power_levels_when_the_promotions_between_the_conflicted_events_are_not_replayed()
    {
        var graph = PromotionChain(RoomVersion.V11);

        var resolved = graph.Resolve(graph.StateAfter("T"), graph.StateAfter("T", "IPOWER"));

        Assert.That(graph.Name(resolved[PowerLevelsKey]), Is.EqualTo("IPOWER"));
    }

    [Test]
    public void V2_1_replays_the_conflicted_state_subgraph_and_keeps_the_latest_power_levels()
    {
        var graph = PromotionChain(RoomVersion.V12);

        var resolved = graph.Resolve(graph.StateAfter("T"), graph.StateAfter("T", "IPOWER"));

        Assert.That(graph.Changes(graph.StateAfter("T"), resolved), Is.Empty);
    }

    [Test]
    public void A_rejected_auth_event_is_not_used_to_authorize_a_conflicted_event()
    {
        // With Alice's join rejected, nothing shows her joined when the join rules are re-checked.
        var graph = JoinRulesThenLeave(RoomVersion.V12);
        graph.MarkRejected("IMA");

        var resolved = graph.Resolve(graph.StateAfter("LA"), graph.StateAfter("LA", "JR1"));

        Assert.That(resolved, Does.Not.ContainKey(JoinRulesKey));
    }

    [Test]
    public void A_conflicted_event_rejected_earlier_is_checked_again_like_any_other()
    {
        var graph = JoinRulesThenLeave(RoomVersion.V12);
        graph.MarkRejected("JR2");

        var resolved = graph.Resolve(graph.StateAfter("LA"), graph.StateAfter("LA", "JR1"));

        Assert.That(graph.Name(resolved[JoinRulesKey]), Is.EqualTo("JR2"));
    }
}
