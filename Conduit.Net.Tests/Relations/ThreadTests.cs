using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Relations;

/// <summary>
/// Threads: the <c>m.thread</c> bundle on the root (count, latest event, participation), the rule
/// against threads off related events, and <c>/threads</c> by latest activity with <c>include</c>.
/// </summary>
public sealed class ThreadTests : ServerFixture
{
    [Test]
    public async Task Thread_replies_are_counted_on_the_root_with_the_latest_one_and_who_participated()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "Hello world! How are you?");
        await Server.ReplyInThreadAsync(bob, roomId, root, "Fine, you?");
        var latest = await Server.ReplyInThreadAsync(bob, roomId, root, "Anyone?");

        var seenByBob = (await Server.GetEventAsync(bob, roomId, root)).Bundle()?["m.thread"];
        Assert.That(seenByBob, Is.Not.Null);
        Assert.That((int?)seenByBob!["count"], Is.EqualTo(2));
        Assert.That((string?)seenByBob["latest_event"]!["event_id"], Is.EqualTo(latest));
        Assert.That((string?)seenByBob["latest_event"]!["content"]!["body"], Is.EqualTo("Anyone?"));
        Assert.That((string?)seenByBob["latest_event"]!["room_id"], Is.EqualTo(roomId));
        Assert.That((bool?)seenByBob["current_user_participated"], Is.True, "bob replied");

        var seenByAlice = (await Server.GetEventAsync(alice, roomId, root)).Bundle()!["m.thread"]!;
        Assert.That((bool?)seenByAlice["current_user_participated"], Is.True, "alice sent the root");
        var seenByCarol = (await Server.GetEventAsync(carol, roomId, root)).Bundle()!["m.thread"]!;
        Assert.That((bool?)seenByCarol["current_user_participated"], Is.False, "carol only watched");
    }

    [Test]
    public async Task The_latest_thread_event_carries_its_own_edit()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var reply = await Server.ReplyInThreadAsync(bob, roomId, root, "typo");
        var edit = await Server.EditAsync(bob, roomId, reply, "fixed");

        var thread = (await Server.GetEventAsync(alice, roomId, root)).Bundle()!["m.thread"]!;
        Assert.That((string?)thread["latest_event"]!["event_id"], Is.EqualTo(reply), "an edit is not a thread reply");
        Assert.That((string?)thread["latest_event"]!.Bundle()?["m.replace"]?["event_id"], Is.EqualTo(edit));
    }

    [Test]
    public async Task Redacting_a_thread_reply_takes_it_out_of_the_count_and_the_participants()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var first = await Server.ReplyInThreadAsync(bob, roomId, root, "one");
        var regretted = await Server.ReplyInThreadAsync(carol, roomId, root, "two");
        await Server.RedactAsync(carol, roomId, regretted);

        var thread = (await Server.GetEventAsync(carol, roomId, root)).Bundle()!["m.thread"]!;
        Assert.That((int?)thread["count"], Is.EqualTo(1));
        Assert.That((string?)thread["latest_event"]!["event_id"], Is.EqualTo(first));
        Assert.That((bool?)thread["current_user_participated"], Is.False);

        await Server.RedactAsync(bob, roomId, first);
        var served = await Server.GetEventAsync(alice, roomId, root);
        Assert.That(served.Bundle()?["m.thread"], Is.Null, "no replies left");
        var threads = await Server.GetOkAsync(alice, RelationsApi.ThreadsPath(roomId));
        Assert.That(threads.ChunkIds(), Does.Not.Contain(root));
    }

    [Test]
    public async Task A_thread_off_an_event_with_a_relation_is_400_M_UNKNOWN()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var reply = await Server.ReplyInThreadAsync(bob, roomId, root, "in the thread");

        var (status, body) = await Server.SendRawAsync(alice, roomId, "m.room.message", RelationsApi.ThreadReply(reply, "nested"));
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));

        var richReply = await Server.SendAsync(alice, roomId, "m.room.message", new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "a plain reply",
            ["m.relates_to"] = new JsonObject { ["m.in_reply_to"] = new JsonObject { ["event_id"] = root } },
        });
        await Server.ReplyInThreadAsync(bob, roomId, richReply, "a reply without rel_type can be a root");
    }

    [Test]
    public async Task Threads_are_listed_by_latest_activity_and_include_participated_filters()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var older = await Server.SendTextAsync(alice, roomId, "first topic");
        var newer = await Server.SendTextAsync(bob, roomId, "second topic");
        var unthreaded = await Server.SendTextAsync(bob, roomId, "no thread here");
        await Server.ReplyInThreadAsync(carol, roomId, older, "on the first");
        await Server.ReplyInThreadAsync(alice, roomId, newer, "on the second");
        await Server.ReplyInThreadAsync(bob, roomId, older, "the first again");

        var all = await Server.GetOkAsync(carol, RelationsApi.ThreadsPath(roomId));
        Assert.That(all.ChunkIds(), Is.EqualTo(new[] { older, newer }), "the most recently active thread comes first");
        Assert.That(all.ChunkIds(), Does.Not.Contain(unthreaded));
        Assert.That(all["chunk"]![0]!.Bundle()?["m.thread"]?["count"]?.GetValue<int>(), Is.EqualTo(2), "roots carry their bundle");
        Assert.That(all["next_batch"], Is.Null);

        var carols = await Server.GetOkAsync(carol, RelationsApi.ThreadsPath(roomId) + "?include=participated");
        Assert.That(carols.ChunkIds(), Is.EqualTo(new[] { older }));
        var bobs = await Server.GetOkAsync(bob, RelationsApi.ThreadsPath(roomId) + "?include=participated");
        Assert.That(bobs.ChunkIds(), Is.EqualTo(new[] { older, newer }), "bob replied in one and started the other");

        var page = await Server.GetOkAsync(carol, RelationsApi.ThreadsPath(roomId) + "?limit=1");
        Assert.That(page.ChunkIds(), Is.EqualTo(new[] { older }));
        var next = (string)page["next_batch"]!;
        var rest = await Server.GetOkAsync(carol, $"{RelationsApi.ThreadsPath(roomId)}?limit=1&from={Uri.EscapeDataString(next)}");
        Assert.That(rest.ChunkIds(), Is.EqualTo(new[] { newer }));
    }

    [Test]
    public async Task Threads_refuses_bad_parameters_and_outsiders()
    {
        var (alice, _, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var outsider = await Server.RegisterAsync(Accounts.UniqueName("outsider"));
        var privateRoom = await Server.CreateRoomAsync(alice);

        var (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.ThreadsPath(roomId) + "?include=mine", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.ThreadsPath(roomId) + "?limit=0", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.ThreadsPath(roomId) + "?from=nonsense", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.ThreadsPath(privateRoom), accessToken: outsider.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
    }

    [Test]
    public async Task Bundles_the_thread_list_and_annotation_keys_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync("alice");
        var roomId = await server.CreateRoomAsync(alice);
        var root = await server.SendTextAsync(alice, roomId, "root");
        var reply = await server.ReplyInThreadAsync(alice, roomId, root, "reply");
        var edit = await server.EditAsync(alice, roomId, root, "root, edited");
        await server.ReactAsync(alice, roomId, root, "👍");
        var plain = await server.SendTextAsync(alice, roomId, "no children");

        await server.RestartAsync();

        var bundle = (await server.GetEventAsync(alice, roomId, root)).Bundle();
        Assert.That((string?)bundle?["m.thread"]?["latest_event"]?["event_id"], Is.EqualTo(reply));
        Assert.That((string?)bundle?["m.replace"]?["event_id"], Is.EqualTo(edit));
        Assert.That((await server.GetEventAsync(alice, roomId, plain)).Bundle(), Is.Null);
        Assert.That((await server.GetOkAsync(alice, RelationsApi.ThreadsPath(roomId))).ChunkIds(), Is.EqualTo(new[] { root }));
        var (status, body) = await server.SendRawAsync(alice, roomId, "m.reaction", RelationsApi.Reaction(root, "👍"));
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_DUPLICATE_ANNOTATION")));
    }

    [Test]
    public async Task A_thread_root_in_a_sync_timeline_carries_its_bundle()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var reply = await Server.ReplyInThreadAsync(bob, roomId, root, "reply");

        var sync = await Server.SyncAsync(bob, filter: """{"room":{"timeline":{"limit":5}}}""");
        var timeline = sync.Joined(roomId)!.TimelineEvents();
        var rootInSync = timeline.Single(e => (string?)e!["event_id"] == root)!;
        var thread = rootInSync.Bundle()?["m.thread"];
        Assert.That(thread, Is.Not.Null, rootInSync.ToJsonString());
        Assert.That((string?)thread!["latest_event"]!["event_id"], Is.EqualTo(reply));
        Assert.That((bool?)thread["current_user_participated"], Is.True);
    }
}
