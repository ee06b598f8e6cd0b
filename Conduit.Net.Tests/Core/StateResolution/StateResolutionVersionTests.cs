using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.StateResolution.RoomGraph;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>Which algorithm resolves a room's forks: the one the room version table names.</summary>
public sealed class StateResolutionVersionTests
{
    [TestCase("1", "JR ME")]
    [TestCase("2", "JR")]
    [TestCase("12", "JR")]
    public void A_join_racing_a_change_to_invite_only_resolves_by_the_room_versions_algorithm(string versionId, string changes)
    {
        // Version 1 keeps a key that only one state holds; v2 and v2.1 authorize it against the resolved join rules.
        var graph = RoomGraph.Build(
            RoomVersion.Get(versionId),
            [
                Ev.State("JR", Alice, Conduit.Net.Core.Events.EventTypes.JoinRules, """{"join_rule":"invite"}"""),
                Ev.Member("ME", Evelyn, Evelyn, "join"),
            ],
            ["END", "JR", "START"],
            ["END", "ME", "START"]);

        Assert.That(graph.ChangesFromStartToEnd(), Is.EqualTo(changes));
    }
}
