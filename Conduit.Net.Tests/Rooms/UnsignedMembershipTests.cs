using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Relations;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// <c>unsigned.membership</c> (v1.11): the requesting user's membership at the time of the event,
/// including the change the event makes, <c>leave</c> before they had any, on every event served
/// to clients: sync timelines, <c>/messages</c>, <c>/context</c>, <c>/event</c>, <c>/relations</c>, <c>/threads</c>.
/// </summary>
public sealed class UnsignedMembershipTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Each_event_carries_the_requesting_user_s_membership_at_that_event()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var before = await _server.SendTextAsync(alice, roomId, "before bob");
        await _server.InviteAsync(alice, roomId, bob.UserId);
        var whileInvited = await _server.SendTextAsync(alice, roomId, "while bob is invited");
        await _server.JoinAsync(bob, roomId);
        var after = await _server.SendTextAsync(alice, roomId, "after bob joined");

        var history = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=50");
        var byId = history["chunk"]!.AsArray().ToDictionary(e => (string)e!["event_id"]!, e => (string?)e!["unsigned"]?["membership"]);
        Assert.That(byId[before], Is.EqualTo("leave"), "before Bob had any membership");
        Assert.That(byId[whileInvited], Is.EqualTo("invite"));
        Assert.That(byId[after], Is.EqualTo("join"));
        var ownJoin = history["chunk"]!.AsArray().Single(e => (string?)e!["state_key"] == bob.UserId && (string?)e!["content"]!["membership"] == "join")!;
        Assert.That((string?)ownJoin["unsigned"]!["membership"], Is.EqualTo("join"), "the change the event makes counts");
        Assert.That(history["chunk"]!.AsArray().Select(e => (string?)e!["unsigned"]?["membership"]), Has.None.Null, "on every event");

        var alicesView = await _server.GetOkAsync(alice, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(before)}");
        Assert.That((string?)alicesView["unsigned"]!["membership"], Is.EqualTo("join"), "the requester's membership, not the sender's or anyone else's");
        var bobsView = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(whileInvited)}");
        Assert.That((string?)bobsView["unsigned"]!["membership"], Is.EqualTo("invite"));

        var context = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(whileInvited)}?limit=4");
        Assert.That((string?)context["event"]!["unsigned"]!["membership"], Is.EqualTo("invite"));
        Assert.That(context["events_after"]!.AsArray().Select(e => (string?)e!["unsigned"]!["membership"]), Does.Contain("join"));

        var timeline = (await _server.SyncAsync(bob)).Joined(roomId)!.TimelineEvents();
        var lastInSync = timeline.Single(e => (string?)e!["event_id"] == after)!;
        Assert.That((string?)lastInSync["unsigned"]!["membership"], Is.EqualTo("join"));
    }

    [Test]
    public async Task Relations_and_threads_carry_it_too_and_a_leave_event_carries_leave()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await _server.JoinAsync(bob, roomId);
        var root = await _server.SendTextAsync(alice, roomId, "root");
        var reply = await _server.ReplyInThreadAsync(alice, roomId, root, "in the thread");
        await _server.LeaveAsync(bob, roomId);

        var relations = await _server.GetOkAsync(bob, RelationsApi.RelationsPath(roomId, root));
        Assert.That(relations.ChunkIds(), Is.EqualTo(new List<string> { reply }));
        Assert.That((string?)relations["chunk"]![0]!["unsigned"]!["membership"], Is.EqualTo("join"));
        var threads = await _server.GetOkAsync(bob, RelationsApi.ThreadsPath(roomId));
        Assert.That((string?)threads["chunk"]![0]!["unsigned"]!["membership"], Is.EqualTo("join"));

        var history = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1");
        var leave = history["chunk"]![0]!;
        Assert.That((string?)leave["content"]!["membership"], Is.EqualTo("leave"));
        Assert.That((string?)leave["unsigned"]!["membership"], Is.EqualTo("leave"));
    }
}
