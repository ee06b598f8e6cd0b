using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;
using static Conduit.Net.Tests.Core.StateResolution.RoomGraph;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>
/// Room version 1's state resolution: a room forked after START and merged at END, as in the v2
/// scenarios. The passes run power levels, join rules, members, then the rest; each conflict is ordered
/// by depth (the order RoomGraph builds events in) and <c>sha1(event_id)</c>.
/// </summary>
public sealed class StateResolutionV1Tests
{
    private const string BobAt50 = """{"users":{"@alice:example.com":100,"@bob:example.com":50}}""";
    private const string BobAt0 = """{"users":{"@alice:example.com":100,"@bob:example.com":0}}""";

    private static RoomGraph Build(IEnumerable<Ev> events, params string[][] chains) => RoomGraph.Build(RoomVersion.V1, events, chains);

    [Test]
    public void States_that_agree_resolve_to_themselves()
    {
        var graph = Build([]);
        var state = graph.StateAfter("START");

        Assert.That(graph.Resolve(state, graph.StateAfter("START")), Is.EquivalentTo(state));
    }

    [Test]
    public void A_key_that_only_one_state_holds_is_not_a_conflict_and_is_kept_unchecked()
    {
        // Zara (power 0) may not set the topic, but no other state has a topic to conflict with hers.
        var graph = Build(
            [
                Ev.State("TZ", Zara, "m.room.topic", """{"topic":"z"}"""),
                Ev.State("TA", Alice, "m.room.name", """{"name":"a"}"""),
            ],
            ["END", "TZ", "START"],
            ["END", "TA", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("TA TZ"));
    }

    [Test]
    public void A_later_power_levels_change_is_applied_when_the_earlier_one_allows_it()
    {
        var graph = Build(
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("PB", Bob, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":50}}"""),
            ],
            ["END", "PB", "PA", "START"],
            ["END", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PB"));
    }

    [Test]
    public void Power_levels_stop_at_the_first_change_the_resolved_state_does_not_allow()
    {
        // By depth: P0, P1 (Bob demoted), P2 (by Bob, valid after P0 only), P3 (by Alice). P2 fails after
        // P1, which ends the pass: P3 is never looked at.
        var graph = Build(
            [
                Ev.State("P0", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("P1", Alice, EventTypes.PowerLevels, BobAt0),
                Ev.State("P2", Bob, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":50}}"""),
                Ev.State("P3", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@zara:example.com":10}}"""),
            ],
            ["END", "P2", "P0", "START"],
            ["END", "P1", "START"],
            ["END", "P3", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("P1"));
    }

    [Test]
    public void A_join_rules_change_by_a_user_the_resolved_power_levels_demote_is_not_applied()
    {
        var graph = Build(
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("PA2", Alice, EventTypes.PowerLevels, BobAt0),
                Ev.State("JB", Bob, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
            ],
            ["END", "PA2", "PA", "START"],
            ["END", "JB", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PA2"));
    }

    [Test]
    public void A_ban_is_resolved_before_the_topic_so_the_banned_users_deeper_topic_loses()
    {
        // Depths: PA, T1, MB, TB. TB is the deepest topic, but Bob is banned once members are resolved.
        var graph = Build(
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.Member("MB", Alice, Bob, "ban"),
                Ev.State("TB", Bob, "m.room.topic", """{"topic":"b"}"""),
            ],
            ["END", "MB", "T1", "PA", "START"],
            ["END", "TB", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("MB PA T1"));
    }

    [Test]
    public void Of_conflicting_topics_that_all_pass_the_deepest_wins()
    {
        var graph = Build(
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("T2", Alice, "m.room.topic", """{"topic":"2"}"""),
            ],
            ["END", "T2", "START"],
            ["END", "T1", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("T2"));
    }

    [Test]
    public void When_no_conflicting_topic_passes_the_shallowest_stays_rather_than_none()
    {
        var graph = Build(
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("TZ1", Zara, "m.room.topic", """{"topic":"z1"}"""),
                Ev.State("TZ2", Zara, "m.room.topic", """{"topic":"z2"}"""),
            ],
            ["END", "TZ2", "T1", "START"],
            ["END", "TZ1", "T1"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("TZ1"));
    }

    [Test]
    public void A_join_racing_a_change_to_invite_only_stays_because_only_one_state_has_the_member()
    {
        // One of room version 1's known faults: state resolution v2 keeps Evelyn out (see the v2 scenarios).
        var graph = Build(
            [
                Ev.State("JR", Alice, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
                Ev.Member("ME", Evelyn, Evelyn, "join"),
            ],
            ["END", "JR", "START"],
            ["END", "ME", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("JR ME"));
    }

    [Test]
    public void A_conflicting_event_the_server_does_not_have_drops_out()
    {
        var graph = Build([Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}""")], ["T1", "START"]);
        var unknown = graph.StateAfter("START");
        unknown[graph.KeyOf("T1")] = "$unknown:example.com";

        var resolved = graph.Resolve(graph.StateAfter("T1"), unknown);

        Assert.That(graph.Changes(graph.StateAfter("START"), resolved), Is.EqualTo("T1"));
    }

    [Test]
    public void The_order_of_the_state_sets_does_not_change_the_result()
    {
        var results = ThreeBranchesResolvedInEveryOrder(RoomVersion.V1);

        Assert.That(results, Has.Count.EqualTo(1));
        Assert.That(results[0], Is.EqualTo("JR MB ME PA TZ"));
    }
}
