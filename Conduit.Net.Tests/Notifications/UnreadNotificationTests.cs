using System.Text.Json.Nodes;
using Conduit.Net.Services.Notifications;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Notifications;

/// <summary>
/// Unread notification counts (spec "Receiving notifications", "Marking notifications as read")
/// driven by the server-default push rules: what counts, what highlights, and what reads it.
/// </summary>
public sealed class UnreadNotificationTests : ServerFixture
{
    [Test]
    public async Task A_message_in_a_group_room_notifies_every_other_member_without_highlight()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");

        await Server.SendTextAsync(alice, roomId, "hello everyone");
        await Server.SendTextAsync(alice, roomId, "anyone there?");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((2, 0)));
        Assert.That(await UnreadAsync(carol, roomId), Is.EqualTo((2, 0)));
    }

    [Test]
    public async Task A_mention_in_m_mentions_highlights_for_the_mentioned_user_only()
    {
        var (alice, bob, carol, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");

        await SendAsync(alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "look at this",
            ["m.mentions"] = new JsonObject { ["user_ids"] = new JsonArray(bob.UserId) },
        });

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 1)));
        Assert.That(await UnreadAsync(carol, roomId), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task The_display_name_in_the_body_of_a_message_without_m_mentions_highlights()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/profile/{RoomApi.Escape(bob.UserId)}/displayname",
            new JsonObject { ["displayname"] = "Robert Tables" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var carol = await NewUserAsync("carol");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        await Server.JoinAsync(bob, roomId);
        await Server.JoinAsync(carol, roomId);

        await Server.SendTextAsync(alice, roomId, "thanks, robert tables!");
        await Server.SendTextAsync(alice, roomId, "Robert is not the whole name");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((2, 1)));
        Assert.That(await UnreadAsync(carol, roomId), Is.EqualTo((2, 0)));
    }

    [Test]
    public async Task The_user_localpart_in_the_body_highlights()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var localpart = bob.UserId[1..bob.UserId.IndexOf(':')];

        await Server.SendTextAsync(alice, roomId, $"ping {localpart}, please");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task A_message_in_a_direct_chat_of_two_notifies()
    {
        var alice = await NewUserAsync("alice");
        var bob = await NewUserAsync("bob");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "trusted_private_chat",
            ["is_direct"] = true,
            ["invite"] = new JsonArray(bob.UserId),
        });
        await Server.JoinAsync(bob, roomId);

        await Server.SendTextAsync(alice, roomId, "psst");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task Notices_edits_reactions_and_state_changes_do_not_count()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var original = await Server.SendTextAsync(alice, roomId, "helo");

        await SendAsync(alice, roomId, new JsonObject { ["msgtype"] = "m.notice", ["body"] = "bot says hi" });
        await SendAsync(alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "* hello",
            ["m.new_content"] = new JsonObject { ["msgtype"] = "m.text", ["body"] = "hello" },
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.replace", ["event_id"] = original },
        });
        await SendAsync(alice, roomId, new JsonObject
        {
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.annotation", ["event_id"] = original, ["key"] = "👍" },
        }, "m.reaction");
        await Server.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "quiet" });

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)), "only the original message");
    }

    [Test]
    public async Task The_sender_own_messages_do_not_count_for_the_sender()
    {
        var (alice, _, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");

        await Server.SendTextAsync(alice, roomId, $"talking to myself, {alice.UserId}");

        Assert.That(await UnreadAsync(alice, roomId), Is.EqualTo((0, 0)));
    }

    [Test]
    public async Task Sending_a_message_reads_the_room_up_to_it()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        await Server.SendTextAsync(alice, roomId, "one");
        await Server.SendTextAsync(alice, roomId, "two");

        await Server.SendTextAsync(bob, roomId, "replying");
        await Server.SendTextAsync(alice, roomId, "three");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task A_new_display_name_carried_into_the_room_does_not_read_it()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        await Server.SendTextAsync(alice, roomId, "one");

        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/profile/{RoomApi.Escape(bob.UserId)}/displayname",
            new JsonObject { ["displayname"] = "Bob the Builder" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var member = await Server.GetStateAsync(bob, roomId, "m.room.member", bob.UserId);

        Assert.That((string?)member["displayname"], Is.EqualTo("Bob the Builder"), "the member event was updated");
        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)));
    }

    [TestCase("m.read")]
    [TestCase("m.read.private")]
    public async Task A_read_receipt_clears_what_is_at_or_before_its_event(string receiptType)
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        await Server.SendTextAsync(alice, roomId, "one");
        var second = await MentionAsync(alice, bob, roomId, "two");
        await Server.SendTextAsync(alice, roomId, "three");
        await MentionAsync(alice, bob, roomId, "four");
        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((4, 2)));

        await ReceiptAsync(bob, roomId, receiptType, second);

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((2, 1)));
    }

    [Test]
    public async Task The_receipt_further_ahead_counts_whichever_its_type()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var first = await Server.SendTextAsync(alice, roomId, "one");
        var second = await Server.SendTextAsync(alice, roomId, "two");
        await Server.SendTextAsync(alice, roomId, "three");

        await ReceiptAsync(bob, roomId, "m.read.private", second);
        await ReceiptAsync(bob, roomId, "m.read", first);

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task Thread_messages_count_in_their_thread_and_in_the_room_total()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "thread root");
        await ThreadReplyAsync(alice, roomId, root, "in the thread");
        await ThreadReplyAsync(alice, roomId, root, $"still in it, {bob.UserId[1..bob.UserId.IndexOf(':')]}");
        await Server.SendTextAsync(alice, roomId, "main again");

        var threaded = await ByThreadAsync(Server, bob, roomId);

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((4, 1)));
        Assert.That(threaded.Main, Is.EqualTo(new UnreadCounts(2, 0)));
        Assert.That(threaded.Threads.Keys, Is.EquivalentTo(new[] { root }));
        Assert.That(threaded.Threads[root], Is.EqualTo(new UnreadCounts(2, 1)));
    }

    [Test]
    public async Task A_threaded_receipt_clears_only_its_thread_and_main_only_the_main_timeline()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "thread root");
        await ThreadReplyAsync(alice, roomId, root, "in the thread");
        var inMain = await Server.SendTextAsync(alice, roomId, "main");
        var lateInThread = await ThreadReplyAsync(alice, roomId, root, "late in the thread");

        await ReceiptAsync(bob, roomId, "m.read", lateInThread, threadId: root);
        var afterThreadReceipt = await ByThreadAsync(Server, bob, roomId);
        await ReceiptAsync(bob, roomId, "m.read", inMain, threadId: "main");
        var afterMainReceipt = await ByThreadAsync(Server, bob, roomId);

        Assert.That(afterThreadReceipt.Main, Is.EqualTo(new UnreadCounts(2, 0)), "the root and the main message");
        Assert.That(afterThreadReceipt.Threads, Is.Empty);
        Assert.That(afterMainReceipt.Main, Is.EqualTo(UnreadCounts.None));
        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((0, 0)));
    }

    [Test]
    public async Task An_unthreaded_receipt_clears_every_thread_up_to_its_event()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "thread root");
        await ThreadReplyAsync(alice, roomId, root, "in the thread");
        var inMain = await Server.SendTextAsync(alice, roomId, "main");
        await ThreadReplyAsync(alice, roomId, root, "after the receipt");

        await ReceiptAsync(bob, roomId, "m.read", inMain);

        var threaded = await ByThreadAsync(Server, bob, roomId);
        Assert.That(threaded.Main, Is.EqualTo(UnreadCounts.None));
        Assert.That(threaded.Threads[root], Is.EqualTo(new UnreadCounts(1, 0)));
    }

    [Test]
    public async Task An_event_related_to_a_thread_message_belongs_to_the_thread()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "thread root");
        var inThread = await ThreadReplyAsync(alice, roomId, root, "in the thread");
        await ReceiptAsync(bob, roomId, "m.read", inThread, threadId: root);

        // Related to a thread message by another relation: the thread is found one hop up.
        await SendAsync(alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "see above",
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "org.example.reference", ["event_id"] = inThread },
        });

        var threaded = await ByThreadAsync(Server, bob, roomId);
        Assert.That(threaded.Threads.GetValueOrDefault(root), Is.EqualTo(new UnreadCounts(1, 0)));
        Assert.That(threaded.Main, Is.EqualTo(new UnreadCounts(1, 0)), "only the root");
    }

    [Test]
    public async Task A_new_event_and_the_count_it_makes_arrive_in_the_same_incremental_sync()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var (_, initial) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync", accessToken: bob.AccessToken);
        var since = (string)initial!["next_batch"]!;

        var waiting = Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync?since={Uri.EscapeDataString(since)}&timeout=30000", accessToken: bob.AccessToken);
        var mention = await MentionAsync(alice, bob, roomId, "wake up");
        var (status, body) = await waiting;

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var room = body!["rooms"]!["join"]![roomId]!;
        Assert.That(room["timeline"]!["events"]!.AsArray().Select(e => (string?)e!["event_id"]), Does.Contain(mention));
        Assert.That(Counts(room["unread_notifications"]!), Is.EqualTo(new UnreadCounts(1, 1)));
    }

    [TestCase("m.read")]
    [TestCase("m.read.private")]
    public async Task A_receipt_brings_the_room_with_its_cleared_counts_into_the_next_incremental_sync(string receiptType)
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        await Server.SendTextAsync(alice, roomId, "one");
        var last = await Server.SendTextAsync(alice, roomId, "two");
        var (_, initial) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync", accessToken: bob.AccessToken);
        Assert.That(Counts(initial!["rooms"]!["join"]![roomId]!["unread_notifications"]!), Is.EqualTo(new UnreadCounts(2, 0)));

        await ReceiptAsync(bob, roomId, receiptType, last);
        var (status, body) = await Server.SendAsync(HttpMethod.Get,
            $"{RoomApi.Client}/sync?since={Uri.EscapeDataString((string)initial["next_batch"]!)}&timeout=10000", accessToken: bob.AccessToken);

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(Counts(body!["rooms"]!["join"]![roomId]!["unread_notifications"]!), Is.EqualTo(UnreadCounts.None));
    }

    [Test]
    public async Task Without_the_filter_flag_no_thread_counts_are_given()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        var root = await Server.SendTextAsync(alice, roomId, "thread root");
        await ThreadReplyAsync(alice, roomId, root, "in the thread");

        var room = await SyncedRoomAsync(Server, bob, roomId, null);

        Assert.That(room.ContainsKey("unread_thread_notifications"), Is.False);
        Assert.That(Counts(room["unread_notifications"]!), Is.EqualTo(new UnreadCounts(2, 0)), "the thread counts in the room total");
    }

    [Test]
    public async Task Counts_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob, roomId) = await server.PublicRoomAsync("alice", "bob");
        await server.JoinAsync(await server.RegisterAsync(Accounts.UniqueName("carol")), roomId);
        await server.SendTextAsync(alice, roomId, "one");
        await SendAsync(server, alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "two",
            ["m.mentions"] = new JsonObject { ["user_ids"] = new JsonArray(bob.UserId) },
        });

        await server.RestartAsync();
        await server.SendTextAsync(alice, roomId, "three");

        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((3, 1)));
    }

    [Test]
    public async Task Leaving_clears_the_counts_and_a_rejoin_starts_afresh()
    {
        var (alice, bob, _, roomId) = await Server.PublicRoomAsync("alice", "bob", "carol");
        await Server.SendTextAsync(alice, roomId, "before");
        await Server.LeaveAsync(bob, roomId);
        await Server.SendTextAsync(alice, roomId, "while away");

        await Server.JoinAsync(bob, roomId);
        await Server.SendTextAsync(alice, roomId, "welcome back");

        Assert.That(await UnreadAsync(bob, roomId), Is.EqualTo((1, 0)));
    }

    [Test]
    public async Task Counts_kept_up_event_by_event_match_the_stored_ones_after_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, bob, carol, roomId) = await server.PublicRoomAsync("alice", "bob", "carol");
        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((0, 0)));

        var root = await server.SendTextAsync(alice, roomId, "one");
        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((1, 0)));
        await SendAsync(server, carol, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "two",
            ["m.mentions"] = new JsonObject { ["user_ids"] = new JsonArray(bob.UserId) },
        });
        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((2, 1)));
        await SendAsync(server, alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "three, in a thread",
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.thread", ["event_id"] = root },
        });
        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((3, 1)));
        await server.SendTextAsync(bob, roomId, "bob reads the main timeline by talking");
        Assert.That(await CountsAsync(server, bob, roomId), Is.EqualTo((1, 0)), "the thread message is left");
        await server.SendTextAsync(carol, roomId, "four");
        var before = await ByThreadAsync(server, bob, roomId);

        await server.RestartAsync();

        var after = await ByThreadAsync(server, bob, roomId);
        Assert.That(after.Main, Is.EqualTo(before.Main).And.EqualTo(new UnreadCounts(1, 0)));
        Assert.That(after.Threads, Is.EquivalentTo(before.Threads));
        Assert.That(after.Threads[root], Is.EqualTo(new UnreadCounts(1, 0)));
    }

    [Test]
    public async Task A_message_is_recorded_once_for_the_room_and_once_more_only_for_members_it_treats_differently()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync(Accounts.UniqueName("alice"));
        var roomId = await server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        var members = new List<TestSession>();
        for (var i = 0; i < 20; i++)
        {
            members.Add(await server.RegisterAsync(Accounts.UniqueName("member")));
            await server.JoinAsync(members[^1], roomId);
        }
        var store = server.Host.Services.GetRequiredService<KvStore>();
        int Entries(string tree) => store.Tree(tree).ScanPrefix([]).Count();
        var roomEntries = Entries(Trees.RoomNotifications);
        var userEntries = Entries(Trees.NotificationMarks);

        await server.SendTextAsync(alice, roomId, "hello, all twenty of you");
        await SendAsync(server, alice, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "two of you in particular",
            ["m.mentions"] = new JsonObject { ["user_ids"] = new JsonArray(members[3].UserId, members[7].UserId) },
        });

        Assert.That(Entries(Trees.RoomNotifications) - roomEntries, Is.EqualTo(2), "one per message");
        Assert.That(Entries(Trees.NotificationMarks) - userEntries, Is.EqualTo(2), "one per mentioned member");
        Assert.That(await CountsAsync(server, members[3], roomId), Is.EqualTo((2, 1)));
        Assert.That(await CountsAsync(server, members[4], roomId), Is.EqualTo((2, 0)));
    }

    private Task<(long, long)> UnreadAsync(TestSession who, string roomId) => CountsAsync(Server, who, roomId);

    /// <summary><c>unread_notifications</c> of the room in an initial <c>/sync</c>.</summary>
    private static async Task<(long, long)> CountsAsync(TestServer server, TestSession who, string roomId)
    {
        var room = await SyncedRoomAsync(server, who, roomId, null);
        return ((long)room["unread_notifications"]!["notification_count"]!, (long)room["unread_notifications"]!["highlight_count"]!);
    }

    /// <summary><c>unread_notifications</c> and <c>unread_thread_notifications</c> of the room in an initial <c>/sync</c> that asks for threads.</summary>
    private static async Task<ThreadedUnreadCounts> ByThreadAsync(TestServer server, TestSession who, string roomId)
    {
        var room = await SyncedRoomAsync(server, who, roomId, """{"room": {"timeline": {"unread_thread_notifications": true}}}""");
        var threads = room["unread_thread_notifications"]?.AsObject().ToDictionary(p => p.Key, p => Counts(p.Value!)) ?? [];
        return new ThreadedUnreadCounts(Counts(room["unread_notifications"]!), threads);
    }

    private static UnreadCounts Counts(JsonNode counts) => new((long)counts["notification_count"]!, (long)counts["highlight_count"]!);

    private static async Task<JsonObject> SyncedRoomAsync(TestServer server, TestSession who, string roomId, string? filter)
    {
        var query = filter is null ? "" : $"?filter={Uri.EscapeDataString(filter)}";
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync{query}", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["rooms"]!["join"]![roomId]!.AsObject();
    }

    private Task<string> SendAsync(TestSession who, string roomId, JsonObject content, string type = "m.room.message") =>
        SendAsync(Server, who, roomId, content, type);

    private static async Task<string> SendAsync(TestServer server, TestSession who, string roomId, JsonObject content, string type = "m.room.message")
    {
        var (status, body) = await server.SendRawAsync(who, roomId, type, content);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return (string)body!["event_id"]!;
    }

    private Task<string> MentionAsync(TestSession sender, TestSession mentioned, string roomId, string text) =>
        SendAsync(sender, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = text,
            ["m.mentions"] = new JsonObject { ["user_ids"] = new JsonArray(mentioned.UserId) },
        });

    private Task<string> ThreadReplyAsync(TestSession who, string roomId, string root, string text) =>
        SendAsync(who, roomId, new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = text,
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.thread", ["event_id"] = root },
        });

    private async Task ReceiptAsync(TestSession who, string roomId, string receiptType, string eventId, string? threadId = null)
    {
        var body = threadId is null ? new JsonObject() : new JsonObject { ["thread_id"] = threadId };
        var (status, response) = await Server.SendAsync(HttpMethod.Post,
            $"{RoomApi.RoomPath(roomId)}/receipt/{RoomApi.Escape(receiptType)}/{RoomApi.Escape(eventId)}", body, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
    }
}
