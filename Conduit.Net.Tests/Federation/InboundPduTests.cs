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

    /// <summary>One server and remote.test for the tests that need no server of their own; each makes its own room.</summary>
    private TestServer _server = null!;
    private RemoteServer _remote = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _server = await TestServer.StartAsync();
        _remote = new RemoteServer();
        _remote.PublishTo(_server);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _server.DisposeAsync();
        _remote.Dispose();
    }

    [Test]
    public async Task A_remote_join_then_messages_appear_in_sync_in_order()
    {
        var (alice, roomId) = await PublicRoomAsync(_server, _remote);
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var bob = _remote.User("bob");
        List<string> sent = [await _remote.JoinAsync(_server, roomId, bob)];
        for (var i = 1; i <= 3; i++)
            sent.Add(await _remote.SendAcceptedAsync(_server, roomId, Message, null, bob, Text($"hello {i}")));

        var room = (await _server.SyncAsync(alice, since)).Joined(roomId)!;
        Assert.That(room.TimelineEvents().EventIds(), Is.EqualTo(sent));
        Assert.That(room.TimelineEvents().Bodies(), Is.EqualTo(SyncApi.Expect("hello 1", "hello 2", "hello 3")));
        Assert.That(room["unread_notifications"]!["notification_count"]!.GetValue<int>(), Is.EqualTo(3));
        var (status, members) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(members!["joined"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { alice.UserId, bob }));
        Assert.That(await MessagesAsync(_server, alice, roomId), Is.SupersetOf(sent));
    }

    [Test]
    public async Task Receiving_an_event_again_changes_nothing()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync();
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var pdu = _remote.Event(_server, roomId, Message, null, bob, Text("once"));
        await _remote.SendAsync(_server, pdu, PduOutcome.Accepted);
        await _remote.SendAsync(_server, pdu, PduOutcome.Accepted);

        var timeline = (await _server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(pdu.Id)));
    }

    [Test]
    public async Task An_event_with_a_bad_signature_is_dropped()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync();
        var since = (await _server.SyncAsync(alice)).NextBatch();

        // Signed under _remote.test's key id, but with another key.
        using var forger = SigningKey.Generate(_remote.Key.Version);
        var forged = _remote.Event(_server, roomId, Message, null, bob, Text("forged"), signWith: forger);
        await _remote.SendAsync(_server, forged, PduOutcome.Dropped);

        var (status, _) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(forged.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That((await _server.SyncAsync(alice, since)).Joined(roomId), Is.Null);

        Assert.That(_server.Host.Services.GetRequiredService<RoomEvents>().Ids.FindEvent(forged.Id), Is.Null);
    }

    [Test]
    public async Task An_event_whose_content_hash_fails_is_stored_redacted()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync();

        // The signature covers the redacted event only, so it still holds; the content hash does not.
        var pdu = _remote.Event(_server, roomId, Message, null, bob, Text("what bob wrote"));
        pdu.Json["content"]!["body"] = "what someone made of it";
        await _remote.SendAsync(_server, pdu, PduOutcome.Accepted);

        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(pdu.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!["sender"]!.GetValue<string>(), Is.EqualTo(bob));
        Assert.That(body["content"]!.AsObject(), Is.Empty);
    }

    [Test]
    public async Task An_event_that_fails_the_auth_rules_is_rejected_and_never_served()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync();
        var since = (await _server.SyncAsync(alice)).NextBatch();

        // Bob has power level 0; the room's name needs 50.
        var name = _remote.Event(_server, roomId, "m.room.name", "", bob, new JsonObject { ["name"] = "Bob's room" });
        var result = await _remote.SendAsync(_server, name.Json);
        Assert.That(result.Outcome, Is.EqualTo(PduOutcome.Rejected));
        Assert.That(result.Error, Does.Contain("power level"));
        await _remote.SendAsync(_server, name, PduOutcome.Rejected);

        // Later events may still build on it; it just never counts.
        var after = _remote.Event(_server, roomId, Message, null, bob, Text("after"), [name.Id]);
        await _remote.SendAsync(_server, after, PduOutcome.Accepted);

        var (status, _) = await _server.GetStateRawAsync(alice, roomId, "m.room.name");
        Assert.That(status, Is.EqualTo(404));
        var (eventStatus, _) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(name.Id)}", accessToken: alice.AccessToken);
        Assert.That(eventStatus, Is.EqualTo(404));
        var timeline = (await _server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(after.Id)));
        Assert.That(await MessagesAsync(_server, alice, roomId), Does.Not.Contain(name.Id));
    }

    [Test]
    public async Task An_event_after_unknown_events_is_not_stored_and_they_are_reported()
    {
        var (_, roomId, bob) = await RoomWithBobAsync();

        var unseen = _remote.Event(_server, roomId, Message, null, bob, Text("never sent"));
        var first = _remote.Event(_server, roomId, Message, null, bob, Text("first"));
        await _remote.SendAsync(_server, first, PduOutcome.Accepted);
        var next = _remote.Event(_server, roomId, Message, null, bob, Text("next"), [first.Id]);
        next.Json["prev_events"]!.AsArray().Add(JsonValue.Create(unseen.Id));
        Resign(_remote, next.Json);

        var result = await _remote.SendAsync(_server, next.Json);
        Assert.That(result.Outcome, Is.EqualTo(PduOutcome.MissingEvents));
        Assert.That(result.MissingEvents, Is.EqualTo(SyncApi.Expect(unseen.Id)));

        await _remote.SendAsync(_server, unseen, PduOutcome.Accepted);
        var retried = await _remote.SendAsync(_server, next.Json);
        Assert.That(retried.Outcome, Is.EqualTo(PduOutcome.Accepted), retried.Reason);
    }

    [Test]
    public async Task An_event_of_a_user_banned_meanwhile_is_soft_failed_but_keeps_its_place_in_the_graph()
    {
        var (alice, roomId, bob) = await RoomWithBobAsync();
        var carol = _remote.User("carol");
        await _remote.JoinAsync(_server, roomId, carol);

        // Bob's server sends a message built before it learnt of the ban.
        var evading = _remote.Event(_server, roomId, Message, null, bob, Text("evading the ban"));
        var (banStatus, banBody) = await _server.PostRawAsync(alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = bob });
        Assert.That(banStatus, Is.EqualTo(200), banBody?.ToJsonString());
        var since = (await _server.SyncAsync(alice)).NextBatch();

        await _remote.SendAsync(_server, evading, PduOutcome.SoftFailed);
        await _remote.SendAsync(_server, evading, PduOutcome.SoftFailed);

        // Carol's server saw it first, and builds on it: that event is handled as normal.
        var merge = _remote.Event(_server, roomId, Message, null, carol, Text("carol"), [.. Extremities(_server, roomId), evading.Id]);
        await _remote.SendAsync(_server, merge, PduOutcome.Accepted);

        var timeline = (await _server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents();
        Assert.That(timeline.EventIds(), Is.EqualTo(SyncApi.Expect(merge.Id)));
        Assert.That(await MessagesAsync(_server, alice, roomId), Does.Not.Contain(evading.Id));
        var (status, _) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{RoomApi.Escape(evading.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        var member = await _server.GetStateAsync(alice, roomId, "m.room.member", bob);
        Assert.That(member["membership"]!.GetValue<string>(), Is.EqualTo("ban"));
        Assert.That(Extremities(_server, roomId), Is.EqualTo(SyncApi.Expect(merge.Id)));
    }

    [TestCase("12")]
    [TestCase("1")]
    public async Task A_topic_race_resolves_to_the_same_topic_whatever_the_arrival_order_and_the_next_local_event_merges_the_branches(string roomVersion)
    {
        await using var first = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        var (alice, roomId) = await PublicRoomAsync(first, remote, roomVersion);
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

    /// <summary>A local user's public room on the shared server, joined by bob of remote.test.</summary>
    private async Task<(TestSession Alice, string RoomId, string Bob)> RoomWithBobAsync()
    {
        var (alice, roomId) = await PublicRoomAsync(_server, _remote);
        var bob = _remote.User("bob");
        await _remote.JoinAsync(_server, roomId, bob);
        return (alice, roomId, bob);
    }

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    /// <summary>A local user's public room, with remote.test's keys known to the server.</summary>
    private static async Task<(TestSession User, string RoomId)> PublicRoomAsync(TestServer server, RemoteServer remote, string roomVersion = "12")
    {
        remote.PublishTo(server);
        return await server.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat", ["room_version"] = roomVersion });
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
        return [.. events.ToPdu(stored, events.VersionOf(stored.ShortRoomId)!).PrevEvents.Select(id => id.Value)];
    }

    /// <summary>Hashes and signs an event again after a test changed it.</summary>
    private static void Resign(RemoteServer remote, JsonObject pdu)
    {
        pdu.Remove("signatures");
        EventHashes.AddContentHash(pdu);
        EventSigning.AddSignature(pdu, RoomVersion.V12, remote.Name, remote.Key);
    }
}
