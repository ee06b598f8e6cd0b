using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// <c>/messages</c>, <c>/context</c> and <c>/timestamp_to_event</c>: pagination in both directions
/// with stable tokens, filters, lazy-loaded members, and history visibility for users who join later.
/// </summary>
public sealed class HistoryTests : ServerFixture
{
    private async Task<JsonNode> MessagesAsync(TestSession who, string roomId, string query)
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?{query}", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!;
    }

    private static List<string> Bodies(JsonNode page) =>
        [.. page["chunk"]!.AsArray().Where(e => (string?)e!["type"] == "m.room.message").Select(e => (string)e!["content"]!["body"]!)];

    private static List<string> Expect(params string[] items) => [.. items];

    private static List<string> Ids(JsonNode page) => [.. page["chunk"]!.AsArray().Select(e => (string)e!["event_id"]!)];

    /// <summary>Every event id of the room from /messages, paging with <paramref name="limit"/> from the given end.</summary>
    private async Task<List<string>> PageAllAsync(TestSession who, string roomId, bool backwards, int limit)
    {
        var ids = new List<string>();
        string? from = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await MessagesAsync(who, roomId, $"dir={(backwards ? "b" : "f")}&limit={limit}{(from is null ? "" : "&from=" + from)}");
            if (from is not null)
                Assert.That((string?)page["start"], Is.EqualTo(from), "start is the from token");
            ids.AddRange(Ids(page));
            from = (string?)page["end"];
            if (from is null)
                return ids;
        }
        Assert.Fail("pagination did not end");
        return ids;
    }

    [Test]
    public async Task Paging_through_150_messages_either_way_returns_every_event_exactly_once_in_order()
    {
        var alice = await NewUserAsync("pager");
        var roomId = await Server.CreateRoomAsync(alice);
        var sent = new List<string>();
        for (var i = 0; i < 150; i++)
            sent.Add(await Server.SendTextAsync(alice, roomId, $"message {i}"));

        var backwards = await PageAllAsync(alice, roomId, backwards: true, limit: 7);
        var forwards = await PageAllAsync(alice, roomId, backwards: false, limit: 11);

        Assert.That(backwards, Is.Unique);
        Assert.That(forwards, Is.EqualTo(Enumerable.Reverse(backwards).ToList()), "both directions see the same events in opposite orders");
        Assert.That(forwards.TakeLast(150), Is.EqualTo(sent), "the messages come last, in the order they were sent");
        Assert.That(forwards.Count, Is.EqualTo(150 + 6), "plus the six state events of createRoom");
    }

    [Test]
    public async Task Tokens_stay_valid_while_new_messages_arrive()
    {
        var alice = await NewUserAsync("stable");
        var roomId = await Server.CreateRoomAsync(alice);
        for (var i = 0; i < 5; i++)
            await Server.SendTextAsync(alice, roomId, $"old {i}");
        var page = await MessagesAsync(alice, roomId, "dir=b&limit=2");
        Assert.That(Bodies(page), Is.EqualTo(Expect("old 4", "old 3")));
        var end = (string)page["end"]!;
        var start = (string)page["start"]!;

        for (var i = 0; i < 3; i++)
            await Server.SendTextAsync(alice, roomId, $"new {i}");

        Assert.That(Bodies(await MessagesAsync(alice, roomId, $"dir=b&limit=2&from={end}")), Is.EqualTo(Expect("old 2", "old 1")));
        Assert.That(Bodies(await MessagesAsync(alice, roomId, $"dir=f&limit=10&from={start}")), Is.EqualTo(Expect("new 0", "new 1", "new 2")));
        Assert.That(Bodies(await MessagesAsync(alice, roomId, $"dir=f&limit=10&from={end}&to={start}")), Is.EqualTo(Expect("old 3", "old 4")), "to bounds the page");
    }

    [Test]
    public async Task The_end_token_is_left_out_at_the_start_of_the_room()
    {
        var alice = await NewUserAsync("edge");
        var roomId = await Server.CreateRoomAsync(alice);
        var page = await MessagesAsync(alice, roomId, "dir=b&limit=100");
        Assert.That(page["end"], Is.Null);
        Assert.That((string?)page["chunk"]!.AsArray().Last()!["type"], Is.EqualTo("m.room.create"));
    }

    [Test]
    public async Task Filters_select_by_type_sender_and_url_and_lazy_loading_adds_the_senders_members()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("filter", "filtered");
        await Server.SendTextAsync(alice, roomId, "from alice");
        await Server.SendTextAsync(bob, roomId, "from bob");
        await Server.SendRawAsync(bob, roomId, "m.room.message", new JsonObject { ["msgtype"] = "m.image", ["body"] = "picture", ["url"] = "mxc://localhost/pic" });
        await Server.SendRawAsync(alice, roomId, "com.example.ping", new JsonObject());

        string Filter(JsonObject filter) => Uri.EscapeDataString(filter.ToJsonString());

        var onlyBob = await MessagesAsync(alice, roomId, $"dir=b&limit=50&filter={Filter(new JsonObject { ["senders"] = new JsonArray(bob.UserId), ["types"] = new JsonArray("m.room.message") })}");
        Assert.That(Bodies(onlyBob), Is.EqualTo(Expect("picture", "from bob")));

        var withUrl = await MessagesAsync(alice, roomId, $"dir=b&limit=50&filter={Filter(new JsonObject { ["contains_url"] = true })}");
        Assert.That(Bodies(withUrl), Is.EqualTo(Expect("picture")));

        var wildcard = await MessagesAsync(alice, roomId, $"dir=b&limit=50&filter={Filter(new JsonObject { ["types"] = new JsonArray("com.example.*") })}");
        Assert.That(wildcard["chunk"]!.AsArray().Select(e => (string?)e!["type"]), Is.EqualTo(Expect("com.example.ping")));

        var notState = await MessagesAsync(alice, roomId, $"dir=b&limit=50&filter={Filter(new JsonObject { ["not_types"] = new JsonArray("m.room.*"), ["not_senders"] = new JsonArray(bob.UserId) })}");
        Assert.That(notState["chunk"]!.AsArray().Select(e => (string?)e!["type"]), Is.EqualTo(Expect("com.example.ping")));

        var lazy = await MessagesAsync(alice, roomId, $"dir=b&limit=3&filter={Filter(new JsonObject { ["lazy_load_members"] = true })}");
        var members = lazy["state"]!.AsArray().Select(e => (string?)e!["state_key"]).ToList();
        Assert.That(members, Is.EquivalentTo(new[] { alice.UserId, bob.UserId }));
        Assert.That(lazy["state"]!.AsArray().All(e => (string?)e!["type"] == "m.room.member"), Is.True);
    }

    [TestCase("dir=x")]
    [TestCase("dir=b&limit=-1")]
    [TestCase("dir=b&from=not-a-token")]
    public async Task Bad_parameters_are_400_M_INVALID_PARAM(string query)
    {
        var alice = await NewUserAsync("bad");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?{query}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task A_filter_that_is_not_json_is_400_M_NOT_JSON_on_messages_and_context_as_on_sync()
    {
        var alice = await NewUserAsync("notjson");
        var roomId = await Server.CreateRoomAsync(alice);
        var eventId = await Server.SendTextAsync(alice, roomId, "hello");
        var filter = Uri.EscapeDataString("{nope");
        foreach (var path in new[]
        {
            $"{RoomApi.RoomPath(roomId)}/messages?dir=b&filter={filter}",
            $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(eventId)}?filter={filter}",
            $"{SyncApi.SyncPath}?filter={filter}",
        })
        {
            var (status, body) = await Server.SendAsync(HttpMethod.Get, path, accessToken: alice.AccessToken);
            Assert.That(status, Is.EqualTo(400), path);
            Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_JSON"), path);
        }
    }

    [TestCase("messages?dir=b&", "[1]")]
    [TestCase("messages?dir=b&", """{"limit":"ten"}""")]
    [TestCase("context/EVENT?", "[1]")]
    [TestCase("context/EVENT?", """{"senders":["not a user id"]}""")]
    public async Task A_filter_that_is_not_a_room_event_filter_is_400_M_BAD_JSON(string endpoint, string filter)
    {
        var alice = await NewUserAsync("badjson");
        var roomId = await Server.CreateRoomAsync(alice);
        var eventId = await Server.SendTextAsync(alice, roomId, "hello");
        var path = $"{RoomApi.RoomPath(roomId)}/{endpoint.Replace("EVENT", RoomApi.Escape(eventId), StringComparison.Ordinal)}filter={Uri.EscapeDataString(filter)}";
        var (status, body) = await Server.SendAsync(HttpMethod.Get, path, accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task A_limit_over_the_cap_returns_at_most_1000_events()
    {
        var alice = await NewUserAsync("cap");
        var roomId = await Server.CreateRoomAsync(alice);
        var page = await MessagesAsync(alice, roomId, "dir=b&limit=100000");
        Assert.That(page["chunk"]!.AsArray(), Has.Count.LessThanOrEqualTo(1000));
    }

    private async Task<(TestSession Alice, string RoomId, string Before, string WhileInvited, string After)> VisibilityRoomAsync(string visibility, TestSession latecomer)
    {
        var alice = await NewUserAsync("historian");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "public_chat",
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "m.room.history_visibility", ["content"] = new JsonObject { ["history_visibility"] = visibility } }),
        });
        var before = await Server.SendTextAsync(alice, roomId, "before the invite");
        await Server.InviteAsync(alice, roomId, latecomer.UserId);
        var whileInvited = await Server.SendTextAsync(alice, roomId, "while invited");
        await Server.JoinAsync(latecomer, roomId);
        var after = await Server.SendTextAsync(alice, roomId, "after the join");
        return (alice, roomId, before, whileInvited, after);
    }

    private async Task<List<string>> VisibleBodiesAsync(TestSession who, string roomId) =>
        Bodies(await MessagesAsync(who, roomId, "dir=f&limit=100"));

    [Test]
    public async Task With_shared_history_a_user_who_joins_later_sees_everything()
    {
        var bob = await NewUserAsync("late");
        var (_, roomId, before, _, _) = await VisibilityRoomAsync("shared", bob);
        Assert.That(await VisibleBodiesAsync(bob, roomId), Is.EqualTo(Expect("before the invite", "while invited", "after the join")));
        var (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(before)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task With_invited_history_a_user_sees_from_their_invite_on()
    {
        var bob = await NewUserAsync("late");
        var (_, roomId, before, whileInvited, _) = await VisibilityRoomAsync("invited", bob);
        Assert.That(await VisibleBodiesAsync(bob, roomId), Is.EqualTo(Expect("while invited", "after the join")));
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(before)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(whileInvited)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task With_joined_history_a_user_sees_from_their_join_on_including_their_own_join()
    {
        var bob = await NewUserAsync("late");
        var (_, roomId, _, whileInvited, after) = await VisibilityRoomAsync("joined", bob);
        var page = await MessagesAsync(bob, roomId, "dir=f&limit=100");
        Assert.That(Bodies(page), Is.EqualTo(Expect("after the join")));
        Assert.That(page["chunk"]!.AsArray().Any(e => (string?)e!["type"] == "m.room.member" && (string?)e["state_key"] == bob.UserId && (string?)e["content"]!["membership"] == "join"), Is.True);
        var (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(whileInvited)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(after)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200));

        var (contextStatus, context) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(whileInvited)}", accessToken: bob.AccessToken);
        Assert.That(contextStatus, Is.EqualTo(404), context?.ToJsonString());
    }

    [Test]
    public async Task A_user_who_left_sees_nothing_sent_after_they_left()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("host", "leaver");
        await Server.SendTextAsync(alice, roomId, "while bob was here");
        await Server.LeaveAsync(bob, roomId);
        var afterLeaving = await Server.SendTextAsync(alice, roomId, "after bob left");

        Assert.That(await VisibleBodiesAsync(bob, roomId), Is.EqualTo(Expect("while bob was here")));
        var (status, _) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(afterLeaving)}", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(404));
    }

    [Test]
    public async Task World_readable_rooms_can_be_read_by_anyone()
    {
        var alice = await NewUserAsync("open");
        var reader = await NewUserAsync("reader");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject { ["type"] = "m.room.history_visibility", ["content"] = new JsonObject { ["history_visibility"] = "world_readable" } }),
        });
        await Server.SendTextAsync(alice, roomId, "for the world");
        Assert.That(await VisibleBodiesAsync(reader, roomId), Is.EqualTo(Expect("for the world")));
        Assert.That((string?)(await Server.GetStateAsync(reader, roomId, "m.room.history_visibility"))["history_visibility"], Is.EqualTo("world_readable"));
    }

    [Test]
    public async Task Context_returns_the_event_with_neighbours_state_and_tokens_that_continue_the_pagination()
    {
        var alice = await NewUserAsync("context");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["name"] = "ctx" });
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
            ids.Add(await Server.SendTextAsync(alice, roomId, $"c{i}"));

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(ids[5])}?limit=4", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["event"]!["event_id"], Is.EqualTo(ids[5]));
        Assert.That(body["events_before"]!.AsArray().Select(e => (string?)e!["event_id"]), Is.EqualTo(new[] { ids[4], ids[3] }));
        Assert.That(body["events_after"]!.AsArray().Select(e => (string?)e!["event_id"]), Is.EqualTo(new[] { ids[6], ids[7] }));
        Assert.That(body["state"]!.AsArray().Any(e => (string?)e!["type"] == "m.room.name"), Is.True);

        Assert.That(Ids(await MessagesAsync(alice, roomId, $"dir=b&limit=1&from={body["start"]}")), Is.EqualTo(new[] { ids[2] }));
        Assert.That(Ids(await MessagesAsync(alice, roomId, $"dir=f&limit=1&from={body["end"]}")), Is.EqualTo(new[] { ids[8] }));

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape("$unknown")}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
    }

    [Test]
    public async Task Timestamp_to_event_finds_the_nearest_event_in_either_direction()
    {
        var alice = await NewUserAsync("clock");
        var roomId = await Server.CreateRoomAsync(alice);
        var first = await Server.SendTextAsync(alice, roomId, "first");
        var (_, firstEvent) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(first)}", accessToken: alice.AccessToken);
        var firstTs = (long)firstEvent!["origin_server_ts"]!;
        await Task.Delay(20);
        var second = await Server.SendTextAsync(alice, roomId, "second");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/timestamp_to_event?ts={firstTs + 1}&dir=f", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["event_id"], Is.EqualTo(second));

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/timestamp_to_event?ts={firstTs}&dir=b", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["event_id"], Is.EqualTo(first));
        Assert.That((long?)body["origin_server_ts"], Is.EqualTo(firstTs));

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"/_matrix/client/v1/rooms/{RoomApi.Escape(roomId)}/timestamp_to_event?ts={long.MaxValue / 2}&dir=f", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }
}
