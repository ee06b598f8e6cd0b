using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Core.StateResolution;

namespace Conduit.Net.Tests.Core.StateResolution;

/// <summary>Which room versions' forks the resolver takes, as the room version table says.</summary>
public sealed class StateResolutionVersionTests
{
    [Test]
    public void Every_room_version_but_1_can_be_resolved()
    {
        var resolvable = RoomVersion.Supported.Where(v => v.StateResolutionImplemented).Select(v => v.Id);

        Assert.That(resolvable, Is.EqualTo(RoomVersion.Supported.Skip(1).Select(v => v.Id)));
    }

    [Test]
    public void A_room_version_1_fork_is_refused_rather_than_resolved_by_another_algorithm()
    {
        var one = new Dictionary<StateKey, string> { [new StateKey("m.room.topic", "")] = "$a:example.com" };
        var other = new Dictionary<StateKey, string> { [new StateKey("m.room.topic", "")] = "$b:example.com" };

        Assert.Throws<NotSupportedException>(() => StateResolver.Resolve(RoomVersion.V1, [one, other], new NoEvents()));
    }

    private sealed class NoEvents : IStateResolutionEvents
    {
        public Conduit.Net.Core.Events.Pdu? Find(string eventId) => null;

        public bool IsRejected(string eventId) => false;
    }
}
