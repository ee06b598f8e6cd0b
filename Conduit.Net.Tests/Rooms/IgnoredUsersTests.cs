using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Relations;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// "Ignoring Users": once a user lists someone in <c>m.ignored_user_list</c>, the events that
/// someone sends are not served to them (sync, <c>/messages</c>, <c>/context</c>, <c>/event</c>,
/// <c>/relations</c>, <c>/threads</c>) except state events, and their invites do not appear.
/// </summary>
public sealed class IgnoredUsersTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Messages_of_an_ignored_user_are_not_served_anywhere_but_their_state_events_are()
    {
        var (alice, bob, carol, roomId) = await RoomOfThreeAsync();
        var since = (await _server.SyncAsync(bob)).NextBatch();
        await IgnoreAsync(bob, carol.UserId);

        var fromCarol = await _server.SendTextAsync(carol, roomId, "from carol");
        var rename = await _server.PutStateAsync(carol, roomId, "m.room.member", carol.UserId, new JsonObject { ["membership"] = "join", ["displayname"] = "Carol" });
        var fromAlice = await _server.SendTextAsync(alice, roomId, "from alice");

        var incremental = (await _server.SyncAsync(bob, since: since)).Joined(roomId)!.TimelineEvents();
        Assert.That(incremental.Bodies(), Is.EqualTo(SyncApi.Expect("from alice")));
        Assert.That(incremental.EventIds(), Does.Contain(rename), "state events of ignored users are still sent");
        var initial = (await _server.SyncAsync(bob)).Joined(roomId)!.TimelineEvents();
        Assert.That(initial.EventIds(), Does.Not.Contain(fromCarol).And.Contain(fromAlice));

        var bobsHistory = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=50");
        Assert.That(bobsHistory.ChunkIds(), Does.Not.Contain(fromCarol).And.Contain(fromAlice).And.Contain(rename));
        var alicesHistory = await _server.GetOkAsync(alice, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=50");
        Assert.That(alicesHistory.ChunkIds(), Does.Contain(fromCarol), "only the user who ignores Carol is spared her messages");

        var context = await _server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(fromAlice)}?limit=10");
        var around = context["events_before"]!.AsArray().EventIds().Concat(context["events_after"]!.AsArray().EventIds());
        Assert.That(around, Does.Not.Contain(fromCarol).And.Contain(rename));
        var (contextStatus, _) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(fromCarol)}", accessToken: bob.AccessToken);
        Assert.That(contextStatus, Is.EqualTo(404));
        var (eventStatus, eventBody) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(fromCarol)}", accessToken: bob.AccessToken);
        Assert.That(eventStatus, Is.EqualTo(404), eventBody?.ToJsonString());
        Assert.That((string?)eventBody?["errcode"], Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task Relations_and_threads_leave_out_the_events_of_an_ignored_user()
    {
        var (alice, bob, carol, roomId) = await RoomOfThreeAsync();
        await IgnoreAsync(bob, carol.UserId);
        var root = await _server.SendTextAsync(alice, roomId, "root");
        var carolsReaction = await _server.ReactAsync(carol, roomId, root, "👎");
        var carolsReply = await _server.ReplyInThreadAsync(carol, roomId, root, "carol in the thread");
        var alicesReaction = await _server.ReactAsync(alice, roomId, root, "👍");
        var carolsRoot = await _server.SendTextAsync(carol, roomId, "carol's root");
        await _server.ReplyInThreadAsync(alice, roomId, carolsRoot, "alice answers carol");

        var relations = await _server.GetOkAsync(bob, RelationsApi.RelationsPath(roomId, root));
        Assert.That(relations.ChunkIds(), Is.EqualTo(new List<string> { alicesReaction }));
        var alicesView = await _server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root));
        Assert.That(alicesView.ChunkIds(), Is.SupersetOf(new[] { carolsReaction, carolsReply, alicesReaction }));

        var threads = await _server.GetOkAsync(bob, RelationsApi.ThreadsPath(roomId));
        Assert.That(threads.ChunkIds(), Does.Not.Contain(carolsRoot));
        var alicesThreads = await _server.GetOkAsync(alice, RelationsApi.ThreadsPath(roomId));
        Assert.That(alicesThreads.ChunkIds(), Does.Contain(carolsRoot));
    }

    [Test]
    public async Task An_invite_from_an_ignored_user_does_not_appear_and_one_from_anyone_else_does()
    {
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var (carol, carolsRoom) = await _server.UserWithRoomAsync("carol");
        var (alice, alicesRoom) = await _server.UserWithRoomAsync("alice");
        await IgnoreAsync(bob, carol.UserId);
        var since = (await _server.SyncAsync(bob)).NextBatch();

        await _server.InviteAsync(carol, carolsRoom, bob.UserId);
        await _server.InviteAsync(alice, alicesRoom, bob.UserId);

        var incremental = await _server.SyncAsync(bob, since: since);
        Assert.That(incremental.Invited(carolsRoom), Is.Null);
        Assert.That(incremental.Invited(alicesRoom), Is.Not.Null);
        var initial = await _server.SyncAsync(bob);
        Assert.That(initial.Invited(carolsRoom), Is.Null);
        Assert.That(initial.Invited(alicesRoom), Is.Not.Null);
    }

    [Test]
    public async Task After_the_user_is_no_longer_ignored_their_new_messages_are_served_again()
    {
        var (_, bob, carol, roomId) = await RoomOfThreeAsync();
        await IgnoreAsync(bob, carol.UserId);
        var since = (await _server.SyncAsync(bob)).NextBatch();
        await _server.SendTextAsync(carol, roomId, "while ignored");
        var ignoring = await _server.SyncAsync(bob, since: since);
        Assert.That(ignoring.Joined(roomId)?.TimelineEvents().Bodies() ?? [], Is.Empty);

        await IgnoreAsync(bob);
        await _server.SendTextAsync(carol, roomId, "after");
        var sync = await _server.SyncAsync(bob, since: ignoring.NextBatch());

        Assert.That(sync.Joined(roomId)!.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("after")));
    }

    private async Task<(TestSession Alice, TestSession Bob, TestSession Carol, string RoomId)> RoomOfThreeAsync()
    {
        var (alice, roomId) = await _server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var carol = await _server.RegisterAsync(Accounts.UniqueName("carol"));
        await _server.JoinAsync(bob, roomId);
        await _server.JoinAsync(carol, roomId);
        return (alice, bob, carol, roomId);
    }

    private async Task IgnoreAsync(TestSession who, params string[] ignored)
    {
        var list = new JsonObject();
        foreach (var userId in ignored)
            list[userId] = new JsonObject();
        var (status, body) = await _server.SendAsync(
            HttpMethod.Put, $"/_matrix/client/v3/user/{RoomApi.Escape(who.UserId)}/account_data/m.ignored_user_list",
            new JsonObject { ["ignored_users"] = list }, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }
}
