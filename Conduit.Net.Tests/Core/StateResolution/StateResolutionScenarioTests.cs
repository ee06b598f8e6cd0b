using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.StateResolution.RoomGraph;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>
/// The well-known races of state resolution, each a small DAG forked after START and merged at END; the
/// assertion is what the state at END has that the state at START had not. Each runs in a room version
/// with state resolution v2 and server-scoped ids (2), v2 with hash ids (11), and v2.1 (12): the
/// outcomes of these races do not differ between v2 and v2.1.
/// </summary>
[TestFixtureSource(nameof(Versions))]
public sealed class StateResolutionScenarioTests(RoomVersion version)
{
    public static readonly RoomVersion[] Versions = [RoomVersion.V2, RoomVersion.V11, RoomVersion.V12];

    private const string BobAt50 = """{"users":{"@alice:example.com":100,"@bob:example.com":50}}""";

    [Test]
    public void A_ban_beats_a_concurrent_power_levels_change_by_the_banned_user()
    {
        // Alice bans Bob on one fork; on the other Bob, still a moderator there, sends power levels.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.Member("MA", Alice, Alice, "join"),
                Ev.Member("MB", Alice, Bob, "ban"),
                Ev.State("PB", Bob, EventTypes.PowerLevels, BobAt50),
            ],
            ["END", "MB", "MA", "PA", "START"],
            ["END", "PB", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("MA MB PA"));
    }

    [Test]
    public void A_join_racing_a_change_to_invite_only_is_not_let_in()
    {
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("JR", Alice, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
                Ev.Member("ME", Evelyn, Evelyn, "join"),
            ],
            ["END", "JR", "START"],
            ["END", "ME", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("JR"));
    }

    [Test]
    public void Power_levels_changed_by_someone_the_other_fork_never_empowered_still_apply_in_auth_order()
    {
        // PC is only valid after PB, which is only valid after PA; the other fork has just PA.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("PB", Bob, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":50}}"""),
                Ev.State("PC", Charlie, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50,"@charlie:example.com":0}}"""),
            ],
            ["END", "PC", "PB", "PA", "START"],
            ["END", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PC"));
    }

    [Test]
    public void A_topic_from_a_demoted_user_loses_to_the_demotion()
    {
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("PA1", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("T2", Alice, "m.room.topic", """{"topic":"2"}"""),
                Ev.State("PA2", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":0}}"""),
                Ev.State("PB", Bob, EventTypes.PowerLevels, BobAt50),
                Ev.State("T3", Bob, "m.room.topic", """{"topic":"3"}"""),
            ],
            ["END", "PA2", "T2", "PA1", "T1", "START"],
            ["END", "T3", "PB", "PA1"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PA2 T2"));
    }

    [Test]
    public void A_topic_does_not_reset_when_its_sender_is_banned_on_another_fork()
    {
        // One fork has only T1; the other went on to T2 by Bob and then banned Bob. T2 falls with the ban,
        // and T1, the topic both forks had before, is the answer rather than no topic.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("T2", Bob, "m.room.topic", """{"topic":"2"}"""),
                Ev.Member("MB", Alice, Bob, "ban"),
            ],
            ["END", "MB", "T2", "PA", "T1", "START"],
            ["END", "T1"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("MB PA T1"));
    }

    [Test]
    public void A_later_topic_wins_over_topics_authorized_by_older_power_levels()
    {
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("PA1", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("T2", Alice, "m.room.topic", """{"topic":"2"}"""),
                Ev.State("PA2", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":0}}"""),
                Ev.State("PB", Bob, EventTypes.PowerLevels, BobAt50),
                Ev.State("T3", Bob, "m.room.topic", """{"topic":"3"}"""),
                Ev.Message("MZ1", Zara),
                Ev.State("T4", Alice, "m.room.topic", """{"topic":"4"}"""),
            ],
            ["END", "T4", "MZ1", "PA2", "T2", "PA1", "T1", "START"],
            ["END", "MZ1", "T3", "PB", "PA1"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PA2 T4"));
    }

    [Test]
    public void Mainline_ordering_puts_a_topic_on_newer_power_levels_after_one_on_older_power_levels()
    {
        // T4 is sent after T3, but T3 is authorized by PA2, deeper in the mainline than PA1 (below T4's
        // PB, which the resolved mainline does not hold). By timestamps alone T4 would win.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("T1", Alice, "m.room.topic", """{"topic":"1"}"""),
                Ev.State("PA1", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.State("T2", Alice, "m.room.topic", """{"topic":"2"}"""),
                Ev.State("PA2", Alice, EventTypes.PowerLevels, """{"users":{"@alice:example.com":100,"@bob:example.com":50},"events":{"m.room.power_levels":100}}"""),
                Ev.State("PB", Bob, EventTypes.PowerLevels, BobAt50),
                Ev.State("T3", Bob, "m.room.topic", """{"topic":"3"}"""),
                Ev.State("T4", Alice, "m.room.topic", """{"topic":"4"}"""),
            ],
            ["END", "T3", "PA2", "T2", "PA1", "T1", "START"],
            ["END", "T4", "PB", "PA1"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("PA2 T3"));
    }

    [Test]
    public void A_kick_racing_a_join_rules_change_by_the_kicked_moderator_wins()
    {
        // Bob (50) makes the room invite-only while Alice kicks him; the kick is ordered first (Alice has
        // the higher power), so Bob is no longer joined when his join rules change is checked.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("PA", Alice, EventTypes.PowerLevels, BobAt50),
                Ev.Member("KB", Alice, Bob, "leave"),
                Ev.State("JB", Bob, EventTypes.JoinRules, """{"join_rule":"invite"}"""),
            ],
            ["END", "KB", "PA", "START"],
            ["END", "JB", "PA"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("KB PA"));
    }

    [Test]
    public void A_join_and_a_concurrent_name_change_are_both_kept()
    {
        var graph = RoomGraph.Build(
            version,
            [
                Ev.Member("ME", Evelyn, Evelyn, "join"),
                Ev.State("N1", Alice, "m.room.name", """{"name":"A"}"""),
            ],
            ["END", "ME", "START"],
            ["END", "N1", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("ME N1"));
    }

    [Test]
    public void A_conflicted_event_that_fails_auth_is_dropped_even_without_a_rival()
    {
        // Zara (power 0) may not set the topic (state_default 50): her fork's topic does not survive.
        var graph = RoomGraph.Build(
            version,
            [
                Ev.State("TZ", Zara, "m.room.topic", """{"topic":"z"}"""),
                Ev.State("TA", Alice, "m.room.name", """{"name":"a"}"""),
            ],
            ["END", "TZ", "START"],
            ["END", "TA", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo("TA"));
    }
}
