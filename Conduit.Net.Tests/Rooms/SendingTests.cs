using System.Text.Json.Nodes;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// Sending message and state events, reading state and single events, redacting: transaction ids,
/// power levels, and what non-members may not do.
/// </summary>
public sealed class SendingTests : ServerFixture
{
    [Test]
    public async Task The_same_txn_id_from_the_same_device_returns_the_same_event()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var first = await Server.SendTextAsync(alice, roomId, "once", "fixed-txn");
        var second = await Server.SendTextAsync(alice, roomId, "once", "fixed-txn");
        Assert.That(second, Is.EqualTo(first));

        var (_, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=5", accessToken: alice.AccessToken);
        var bodies = body!["chunk"]!.AsArray().Where(e => (string?)e!["type"] == "m.room.message").ToList();
        Assert.That(bodies, Has.Count.EqualTo(1), "one event, not two");
        Assert.That((string?)bodies[0]!["unsigned"]!["transaction_id"], Is.EqualTo("fixed-txn"));
    }

    [Test]
    public async Task The_same_txn_id_from_another_device_is_a_new_event_without_that_devices_txn_id()
    {
        var alice = await NewUserAsync("sender");
        var phone = await Server.LoginAsync(alice.UserId);
        var roomId = await Server.CreateRoomAsync(alice);
        var fromLaptop = await Server.SendTextAsync(alice, roomId, "a", "shared-txn");
        var fromPhone = await Server.SendTextAsync(phone, roomId, "b", "shared-txn");
        Assert.That(fromPhone, Is.Not.EqualTo(fromLaptop));

        var (_, seenByPhone) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(fromLaptop)}", accessToken: phone.AccessToken);
        Assert.That(seenByPhone!["unsigned"]?["transaction_id"], Is.Null, "only the sending device sees its transaction id");
        var (_, seenByLaptop) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(fromLaptop)}", accessToken: alice.AccessToken);
        Assert.That((string?)seenByLaptop!["unsigned"]!["transaction_id"], Is.EqualTo("shared-txn"));
    }

    [Test]
    public async Task Txn_ids_and_looked_up_ids_of_any_length_are_no_server_error()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var longTxn = new string('t', 3000);
        var first = await Server.SendTextAsync(alice, roomId, "long txn", longTxn);
        Assert.That(await Server.SendTextAsync(alice, roomId, "long txn", longTxn), Is.EqualTo(first));

        var longId = "$" + new string('e', 3000);
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(longId)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404), body?.ToJsonString());
        (status, body) = await Server.GetStateRawAsync(alice, roomId, "m.room.member", new string('k', 3000));
        Assert.That(status, Is.EqualTo(404), body?.ToJsonString());
        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath("!" + new string('r', 3000) + ":localhost")}/state", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(403), body?.ToJsonString());
    }

    [Test]
    public async Task A_sent_event_reads_back_in_the_client_format()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var eventId = await Server.SendTextAsync(alice, roomId, "hello");
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(eventId)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["event_id"], Is.EqualTo(eventId));
        Assert.That((string?)body["room_id"], Is.EqualTo(roomId));
        Assert.That((string?)body["sender"], Is.EqualTo(alice.UserId));
        Assert.That((string?)body["type"], Is.EqualTo("m.room.message"));
        Assert.That((string?)body["content"]!["body"], Is.EqualTo("hello"));
        Assert.That((long?)body["origin_server_ts"], Is.GreaterThan(0));
        Assert.That(body["unsigned"]!["age"], Is.Not.Null);
        foreach (var federationOnly in new[] { "hashes", "signatures", "auth_events", "prev_events", "depth" })
            Assert.That(body.AsObject().ContainsKey(federationOnly), Is.False, federationOnly);
    }

    [Test]
    public async Task Sending_to_a_room_one_is_not_in_is_403_M_FORBIDDEN()
    {
        var (_, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var stranger = await NewUserAsync("stranger");
        var (status, body) = await Server.SendRawAsync(stranger, roomId, "m.room.message", new JsonObject { ["body"] = "x" });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        (status, body) = await Server.SendRawAsync(stranger, "!unknown:localhost", "m.room.message", new JsonObject { ["body"] = "x" });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Sending_state_without_the_power_level_is_403_with_the_reason()
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var (status, body) = await Server.PutStateRawAsync(bob, roomId, "m.room.name", "", new JsonObject { ["name"] = "mine now" });
        Assert.That(status, Is.EqualTo(403), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        Assert.That((string?)body!["error"], Does.Contain("power level"));
    }

    [Test]
    public async Task Messages_below_events_default_are_403()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var levels = (await Server.GetStateAsync(alice, roomId, "m.room.power_levels")).AsObject();
        levels["events_default"] = 20;
        await Server.PutStateAsync(alice, roomId, "m.room.power_levels", "", levels);
        var (status, body) = await Server.SendRawAsync(bob, roomId, "m.room.message", new JsonObject { ["body"] = "muted" });
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task State_without_a_state_key_reads_the_empty_key_and_format_event_gives_the_whole_event()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var eventId = await Server.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "first" });

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state/m.room.topic", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["topic"], Is.EqualTo("first"));

        var second = await Server.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "second" });
        (status, body) = await Server.GetStateRawAsync(alice, roomId, "m.room.topic", "", "event");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["event_id"], Is.EqualTo(second));
        Assert.That((string?)body["state_key"], Is.EqualTo(""));
        Assert.That((string?)body["unsigned"]!["prev_content"]!["topic"], Is.EqualTo("first"));
        Assert.That((string?)body["unsigned"]!["replaces_state"], Is.EqualTo(eventId));
    }

    [Test]
    public async Task Missing_state_is_404_M_NOT_FOUND()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await Server.GetStateRawAsync(alice, roomId, "m.room.avatar");
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task Non_members_cannot_read_state_or_events_of_a_private_room()
    {
        var alice = await NewUserAsync("sender");
        var stranger = await NewUserAsync("stranger");
        var roomId = await Server.CreateRoomAsync(alice);
        var eventId = await Server.SendTextAsync(alice, roomId, "secret");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state", accessToken: stranger.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        (status, body) = await Server.GetStateRawAsync(stranger, roomId, "m.room.create");
        Assert.That(status, Is.EqualTo(403));
        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(eventId)}", accessToken: stranger.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b", accessToken: stranger.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task The_whole_state_lists_every_state_event_once()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["name"] = "n" });
        await Server.PutStateAsync(alice, roomId, "m.room.name", "", new JsonObject { ["name"] = "renamed" });
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        var keys = body!.AsArray().Select(e => $"{e!["type"]}|{e["state_key"]}").ToList();
        Assert.That(keys, Is.Unique);
        Assert.That(keys, Is.SupersetOf(new[] { "m.room.create|", $"m.room.member|{alice.UserId}", "m.room.power_levels|", "m.room.join_rules|", "m.room.name|" }));
        var name = body.AsArray().Single(e => (string?)e!["type"] == "m.room.name");
        Assert.That((string?)name!["content"]!["name"], Is.EqualTo("renamed"));
    }

    [Test]
    public async Task A_redacted_event_is_served_redacted_with_redacted_because()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var eventId = await Server.SendTextAsync(bob, roomId, "oops");
        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(eventId)}/{RoomApi.NewTxnId()}", new JsonObject { ["reason"] = "typo" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var redactionId = (string)body!["event_id"]!;

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(eventId)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["content"]!.AsObject(), Is.Empty);
        Assert.That((string?)body["unsigned"]!["redacted_because"]!["event_id"], Is.EqualTo(redactionId));
        Assert.That((string?)body["unsigned"]!["redacted_because"]!["content"]!["reason"], Is.EqualTo("typo"));
    }

    [Test]
    public async Task Redacting_another_users_event_needs_the_redact_level()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var aliceEvent = await Server.SendTextAsync(alice, roomId, "mine");
        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(aliceEvent)}/{RoomApi.NewTxnId()}", new JsonObject(), bob.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var bobEvent = await Server.SendTextAsync(bob, roomId, "his");
        (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(bobEvent)}/{RoomApi.NewTxnId()}", new JsonObject(), alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), "the room creator has the redact level");
    }

    [Test]
    public async Task A_redaction_sent_through_send_redacts_too()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["room_version"] = "10" });
        var eventId = await Server.SendTextAsync(alice, roomId, "gone soon");
        var (status, body) = await Server.SendRawAsync(alice, roomId, "m.room.redaction", new JsonObject { ["redacts"] = eventId });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var redactionId = (string)body!["event_id"]!;

        (_, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(redactionId)}", accessToken: alice.AccessToken);
        Assert.That((string?)body!["redacts"], Is.EqualTo(eventId), "before room version 11 redacts is a top-level key");
        (_, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(eventId)}", accessToken: alice.AccessToken);
        Assert.That(body!["content"]!.AsObject(), Is.Empty);
    }

    [TestCase("10")]
    [TestCase("11")]
    [TestCase("12")]
    public async Task A_redaction_is_served_with_redacts_at_the_top_level_and_in_content(string roomVersion)
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["room_version"] = roomVersion });
        var eventId = await Server.SendTextAsync(alice, roomId, "gone soon");
        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.RoomPath(roomId)}/redact/{RoomApi.Escape(eventId)}/{RoomApi.NewTxnId()}", new JsonObject(), alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var redactionId = (string)body!["event_id"]!;

        (_, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(redactionId)}", accessToken: alice.AccessToken);
        Assert.That((string?)body!["redacts"], Is.EqualTo(eventId), body.ToJsonString());
        Assert.That((string?)body["content"]!["redacts"], Is.EqualTo(eventId), body.ToJsonString());
        (_, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1", accessToken: alice.AccessToken);
        var served = body!["chunk"]![0]!;
        Assert.That((string?)served["event_id"], Is.EqualTo(redactionId));
        Assert.That((string?)served["redacts"], Is.EqualTo(eventId), "/messages serves it the same way");
        Assert.That((string?)served["content"]!["redacts"], Is.EqualTo(eventId), "/messages serves it the same way");
    }

    [Test]
    public async Task A_canonical_alias_must_exist_and_point_to_the_room()
    {
        var alice = await NewUserAsync("sender");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await Server.PutStateRawAsync(alice, roomId, "m.room.canonical_alias", "", new JsonObject { ["alias"] = "#nowhere:localhost" });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_ALIAS"));

        (status, body) = await Server.PutStateRawAsync(alice, roomId, "m.room.canonical_alias", "", new JsonObject { ["alt_aliases"] = new JsonArray("not an alias") });
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));

        var alias = $"#{Accounts.UniqueName("canon")}:localhost";
        (status, _) = await Server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/directory/room/{RoomApi.Escape(alias)}", new JsonObject { ["room_id"] = roomId }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        (status, body) = await Server.PutStateRawAsync(alice, roomId, "m.room.canonical_alias", "", new JsonObject { ["alias"] = alias });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    [Test]
    public async Task Concurrent_senders_in_one_room_make_one_unbroken_chain_of_events()
    {
        var alice = await NewUserAsync("busy");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        var senders = new List<TestSession> { alice };
        for (var i = 0; i < 7; i++)
        {
            var user = await NewUserAsync("busy");
            await Server.JoinAsync(user, roomId);
            senders.Add(user);
        }

        var sent = await Task.WhenAll(senders.Select(async user =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 25; i++)
                ids.Add(await Server.SendTextAsync(user, roomId, $"{user.UserId} {i}"));
            return ids;
        }));

        var events = Server.Host.Services.GetRequiredService<RoomEvents>();
        var room = events.Find(roomId)!;
        var timeline = events.Timeline.Range(room.ShortRoomId, null, null, newestFirst: false).ToList();
        Assert.That(timeline.Select(e => e.EventId), Is.SupersetOf(sent.SelectMany(ids => ids)));
        for (var i = 1; i < timeline.Count; i++)
        {
            var prevEvents = events.ToPdu(timeline[i], room.Version).PrevEvents.Select(p => p.Value).ToList();
            Assert.That(prevEvents, Is.EqualTo(new[] { timeline[i - 1].EventId }), $"event {i} follows event {i - 1}");
        }
        Assert.That(room.Extremities, Is.EqualTo(new[] { timeline[^1].ShortEventId }));
        foreach (var ids in sent)
            Assert.That(ids.Select(id => timeline.FindIndex(e => e.EventId == id)), Is.Ordered, "each sender's messages keep their order");
    }

    [Test]
    public async Task Rooms_timelines_and_txn_ids_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync(Accounts.UniqueName("durable"));
        var roomId = await server.CreateRoomAsync(alice, new JsonObject { ["name"] = "kept" });
        var eventId = await server.SendTextAsync(alice, roomId, "before restart", "txn-restart");

        await server.RestartAsync();

        Assert.That(await server.SendTextAsync(alice, roomId, "before restart", "txn-restart"), Is.EqualTo(eventId));
        Assert.That((string?)(await server.GetStateAsync(alice, roomId, "m.room.name"))["name"], Is.EqualTo("kept"));
        var after = await server.SendTextAsync(alice, roomId, "after restart");
        var (_, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=2", accessToken: alice.AccessToken);
        Assert.That(body!["chunk"]!.AsArray().Select(e => (string?)e!["event_id"]), Is.EqualTo(new[] { after, eventId }));
        var (_, joined) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/joined_rooms", accessToken: alice.AccessToken);
        Assert.That(joined!["joined_rooms"]!.AsArray().Select(n => (string?)n), Is.EqualTo(new[] { roomId }));
    }
}
