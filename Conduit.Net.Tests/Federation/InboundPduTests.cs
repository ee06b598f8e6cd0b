using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The inbound PDU pipeline ("Checks performed on receipt of a PDU") and the room DAG it builds, seen
/// the way a local user sees a room shared with users of remote.test: through sync, messages, state and events.
/// </summary>
public sealed class InboundPduTests
{
    private const string Message = "m.room.message";

    [Test]
    public async Task A_remote_join_then_messages_appear_in_sync_in_order()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var since = (await server.SyncAsync(alice)).NextBatch();

        var bob = remote.User("bob");
        List<string> sent = [await remote.JoinAsync(server, roomId, bob)];
        for (var i = 1; i <= 3; i++)
            sent.Add(await remote.SendAcceptedAsync(server, roomId, Message, null, bob, Text($"hello {i}")));

        var room = (await server.SyncAsync(alice, since)).Joined(roomId)!;
        Assert.That(room.TimelineEvents().EventIds(), Is.EqualTo(sent));
        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("hello 1", "hello 2", "hello 3")));
        Assert.That(room["unread_notifications"]!["notification_count"]!.GetValue<int>(), Is.EqualTo(3));
        var (status, members) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(members!["joined"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { alice.UserId, bob }));
        Assert.That(await MessagesAsync(server, alice, roomId), Is.SupersetOf(sent));
    }

    [Test]
    public async Task Receiving_an_event_again_changes_nothing()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        await remote.JoinAsync(server, roomId, bob);
        var since = (await server.SyncAsync(alice)).NextBatch();

        var pdu = remote.Event(server, roomId, Message, null, bob, Text("once"));
        await remote.SendAsync(server, pdu, PduOutcome.Accepted);
        await remote.SendAsync(server, pdu, PduOutcome.Accepted);

        var timeline = (await server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(pdu.Id)));
    }

    [Test]
    public async Task An_event_with_a_bad_signature_is_dropped()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        await remote.JoinAsync(server, roomId, bob);
        var since = (await server.SyncAsync(alice)).NextBatch();

        // Signed under remote.test's key id, but with another key.
        using var forger = SigningKey.Generate(remote.Key.Version);
        var forged = remote.Event(server, roomId, Message, null, bob, Text("forged"), signWith: forger);
        await remote.SendAsync(server, forged, PduOutcome.Dropped);

        var (status, _) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(forged.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That((await server.SyncAsync(alice, since)).Joined(roomId), Is.Null);

        Assert.That(server.Host.Services.GetRequiredService<RoomEvents>().Ids.FindEvent(forged.Id), Is.Null);
    }

    [Test]
    public async Task An_event_whose_content_hash_fails_is_stored_redacted()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        await remote.JoinAsync(server, roomId, bob);

        // The signature covers the redacted event only, so it still holds; the content hash does not.
        var pdu = remote.Event(server, roomId, Message, null, bob, Text("what bob wrote"));
        pdu.Json["content"]!["body"] = "what someone made of it";
        await remote.SendAsync(server, pdu, PduOutcome.Accepted);

        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(pdu.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!["sender"]!.GetValue<string>(), Is.EqualTo(bob));
        Assert.That(body["content"]!.AsObject(), Is.Empty);
    }

    [Test]
    public async Task An_event_that_fails_the_auth_rules_is_rejected_and_never_served()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        await remote.JoinAsync(server, roomId, bob);
        var since = (await server.SyncAsync(alice)).NextBatch();

        // Bob has power level 0; the room's name needs 50.
        var name = remote.Event(server, roomId, "m.room.name", "", bob, new JsonObject { ["name"] = "Bob's room" });
        var result = await remote.SendAsync(server, name.Json);
        Assert.That(result.Outcome, Is.EqualTo(PduOutcome.Rejected));
        Assert.That(result.Error, Does.Contain("power level"));
        await remote.SendAsync(server, name, PduOutcome.Rejected);

        // Later events may still build on it; it just never counts.
        var after = remote.Event(server, roomId, Message, null, bob, Text("after"), [name.Id]);
        await remote.SendAsync(server, after, PduOutcome.Accepted);

        var (status, _) = await server.GetStateRawAsync(alice, roomId, "m.room.name");
        Assert.That(status, Is.EqualTo(404));
        var (eventStatus, _) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(name.Id)}", accessToken: alice.AccessToken);
        Assert.That(eventStatus, Is.EqualTo(404));
        var timeline = (await server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(after.Id)));
        Assert.That(await MessagesAsync(server, alice, roomId), Does.Not.Contain(name.Id));
    }

    [Test]
    public async Task An_event_after_unknown_events_is_not_stored_and_they_are_reported()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (_, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        await remote.JoinAsync(server, roomId, bob);

        var unseen = remote.Event(server, roomId, Message, null, bob, Text("never sent"));
        var first = remote.Event(server, roomId, Message, null, bob, Text("first"));
        await remote.SendAsync(server, first, PduOutcome.Accepted);
        var next = remote.Event(server, roomId, Message, null, bob, Text("next"), [first.Id]);
        next.Json["prev_events"]!.AsArray().Add(JsonValue.Create(unseen.Id));
        Resign(remote, next.Json);

        var result = await remote.SendAsync(server, next.Json);
        Assert.That(result.Outcome, Is.EqualTo(PduOutcome.MissingEvents));
        Assert.That(result.MissingEvents, Is.EqualTo(SyncApi.Expect(unseen.Id)));

        await remote.SendAsync(server, unseen, PduOutcome.Accepted);
        var retried = await remote.SendAsync(server, next.Json);
        Assert.That(retried.Outcome, Is.EqualTo(PduOutcome.Accepted), retried.Reason);
    }

    [Test]
    public async Task An_event_of_a_user_banned_meanwhile_is_soft_failed_but_keeps_its_place_in_the_graph()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(server, remote);
        var bob = remote.User("bob");
        var carol = remote.User("carol");
        await remote.JoinAsync(server, roomId, bob);
        await remote.JoinAsync(server, roomId, carol);

        // Bob's server sends a message built before it learnt of the ban.
        var evading = remote.Event(server, roomId, Message, null, bob, Text("evading the ban"));
        var (banStatus, banBody) = await server.PostRawAsync(alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = bob });
        Assert.That(banStatus, Is.EqualTo(200), banBody?.ToJsonString());
        var since = (await server.SyncAsync(alice)).NextBatch();

        await remote.SendAsync(server, evading, PduOutcome.SoftFailed);
        await remote.SendAsync(server, evading, PduOutcome.SoftFailed);

        // Carol's server saw it first, and builds on it: that event is handled as normal.
        var merge = remote.Event(server, roomId, Message, null, carol, Text("carol"), [.. Extremities(server, roomId), evading.Id]);
        await remote.SendAsync(server, merge, PduOutcome.Accepted);

        var timeline = (await server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(merge.Id)));
        Assert.That(await MessagesAsync(server, alice, roomId), Does.Not.Contain(evading.Id));
        var (status, _) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(evading.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        var member = await server.GetStateAsync(alice, roomId, "m.room.member", bob);
        Assert.That(member["membership"]!.GetValue<string>(), Is.EqualTo("ban"));
        Assert.That(Extremities(server, roomId), Is.EqualTo(SyncApi.Expect(merge.Id)));
    }

    [Test]
    public async Task A_topic_race_resolves_to_the_same_topic_whatever_the_arrival_order_and_the_next_local_event_merges_the_branches()
    {
        await using var first = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(first, remote);
        var bob = remote.User("bob");
        var carol = remote.User("carol");
        await remote.JoinAsync(first, roomId, bob);
        await remote.JoinAsync(first, roomId, carol);
        await SetPowerLevelsAsync(first, alice, roomId, new JsonObject { [bob] = 50, [carol] = 50 });
        await using var second = await CloneAsync(first);

        var fromBob = remote.Event(first, roomId, "m.room.topic", "", bob, new JsonObject { ["topic"] = "bob's topic" });
        var fromCarol = remote.Event(first, roomId, "m.room.topic", "", carol, new JsonObject { ["topic"] = "carol's topic" });
        await remote.SendAsync(first, fromBob, PduOutcome.Accepted);
        await remote.SendAsync(first, fromCarol, PduOutcome.Accepted);
        await remote.SendAsync(second, fromCarol, PduOutcome.Accepted);
        await remote.SendAsync(second, fromBob, PduOutcome.Accepted);

        var topic = (await first.GetStateAsync(alice, roomId, "m.room.topic"))["topic"]!.GetValue<string>();
        Assert.That(topic, Is.AnyOf("bob's topic", "carol's topic"));
        Assert.That((await second.GetStateAsync(alice, roomId, "m.room.topic"))["topic"]!.GetValue<string>(), Is.EqualTo(topic));
        Assert.That(await StateAsync(second, alice, roomId), Is.EqualTo(await StateAsync(first, alice, roomId)));

        var local = await first.SendTextAsync(alice, roomId, "after the race");
        Assert.That(PrevEvents(first, local), Is.EquivalentTo(new[] { fromBob.Id, fromCarol.Id }));
        Assert.That(Extremities(first, roomId), Is.EqualTo(SyncApi.Expect(local)));
        Assert.That((await first.GetStateAsync(alice, roomId, "m.room.topic"))["topic"]!.GetValue<string>(), Is.EqualTo(topic));
    }

    [Test]
    public async Task A_power_level_change_racing_a_ban_gives_the_same_state_whatever_the_arrival_order()
    {
        await using var first = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(first, remote);
        var bob = remote.User("bob");
        var carol = remote.User("carol");
        var dave = remote.User("dave");
        foreach (var user in new[] { bob, carol, dave })
            await remote.JoinAsync(first, roomId, user);
        await SetPowerLevelsAsync(first, alice, roomId, new JsonObject { [bob] = 100, [carol] = 50 });
        await using var second = await CloneAsync(first);

        // Bob takes carol's power away while carol, on her branch, bans dave.
        var levels = await first.GetStateAsync(alice, roomId, "m.room.power_levels");
        var demoted = levels.DeepClone().AsObject();
        demoted["users"]![carol] = 0;
        var demotion = remote.Event(first, roomId, "m.room.power_levels", "", bob, demoted);
        var ban = remote.Event(first, roomId, "m.room.member", dave, carol, new JsonObject { ["membership"] = "ban" });

        await remote.SendAsync(first, demotion, PduOutcome.Accepted);
        var late = await remote.SendAsync(first, ban.Json);
        await remote.SendAsync(second, ban, PduOutcome.Accepted);
        await remote.SendAsync(second, demotion, PduOutcome.Accepted);

        // Where the ban came second it was soft-failed; where it came first, resolution orders it after the demotion.
        Assert.That(late.Outcome, Is.EqualTo(PduOutcome.SoftFailed), late.Reason);
        foreach (var server in new[] { first, second })
        {
            var member = await server.GetStateAsync(alice, roomId, "m.room.member", dave);
            Assert.That(member["membership"]!.GetValue<string>(), Is.EqualTo("join"));
            var current = await server.GetStateAsync(alice, roomId, "m.room.power_levels");
            Assert.That(current["users"]![carol]!.GetValue<int>(), Is.EqualTo(0));
        }
        Assert.That(await StateAsync(second, alice, roomId), Is.EqualTo(await StateAsync(first, alice, roomId)));
    }

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    /// <summary>A local user's public room, with remote.test's keys known to the server.</summary>
    private static async Task<(TestSession User, string RoomId)> PublicRoomAsync(TestServer server, RemoteServer remote)
    {
        remote.PublishTo(server);
        return await server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });
    }

    private static async Task SetPowerLevelsAsync(TestServer server, TestSession who, string roomId, JsonObject users)
    {
        var levels = (await server.GetStateAsync(who, roomId, "m.room.power_levels")).DeepClone().AsObject();
        foreach (var (user, level) in users)
            levels["users"]![user] = level!.DeepClone();
        await server.PutStateAsync(who, roomId, "m.room.power_levels", "", levels);
    }

    /// <summary>
    /// A second server with a copy of <paramref name="server"/>'s data: the same name, key, users and
    /// rooms, from which the two go their own ways.
    /// </summary>
    private static async Task<TestServer> CloneAsync(TestServer server)
    {
        var copy = Path.Combine(Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));
        await server.RestartAsync(config =>
        {
            CopyDirectory(config.DatabasePath, copy);
            return config;
        });
        return await TestServer.StartAsync(config => config with { DatabasePath = copy });
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.GetDirectories(from))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }

    /// <summary>The room's current state as (type, state_key) → event id.</summary>
    private static async Task<Dictionary<string, string>> StateAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!.AsArray().ToDictionary(e => $"{e!["type"]}|{e["state_key"]}", e => e!["event_id"]!.GetValue<string>());
    }

    /// <summary>Event ids of the room's history as <c>/messages</c> pages it back.</summary>
    private static async Task<List<string>> MessagesAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=100", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["chunk"]!.AsArray().EventIds();
    }

    private static List<string> Extremities(TestServer server, string roomId)
    {
        var events = server.Host.Services.GetRequiredService<RoomEvents>();
        return [.. events.Find(roomId)!.Extremities.Select(id => events.Timeline.Get(id)!.EventId)];
    }

    private static List<string> PrevEvents(TestServer server, string eventId)
    {
        var events = server.Host.Services.GetRequiredService<RoomEvents>();
        var stored = events.Timeline.Get(events.Ids.FindEvent(eventId)!.Value)!;
        return [.. stored.ToJsonObject()["prev_events"]!.AsArray().Select(id => id!.GetValue<string>())];
    }

    /// <summary>Hashes and signs an event again after a test changed it.</summary>
    private static void Resign(RemoteServer remote, JsonObject pdu)
    {
        pdu.Remove("signatures");
        EventHashes.AddContentHash(pdu);
        EventSigning.AddSignature(pdu, RoomVersion.V12, remote.Name, remote.Key);
    }
}
