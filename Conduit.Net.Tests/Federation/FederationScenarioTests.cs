using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The issue's multi-server scenarios, each with its own real servers driven through the client API:
/// a chat across two servers, a server that was down catching up, a partition between two servers that
/// heals into one state on all three, and events a fake remote forges or sends without the right that
/// never reach a client.
/// </summary>
public sealed class FederationScenarioTests
{
    private static readonly JsonObject PublicChat = new() { ["preset"] = "public_chat" };

    [Test]
    public async Task Two_servers_chat_and_both_sides_see_the_conversation_in_sync_in_the_same_order()
    {
        await using var shared = await TwoServerRoom.StartAsync();
        var (a, b, alice, bob, roomId) = shared;
        var onA = await SyncTimeline.StartAsync(a, alice, roomId);
        var onB = await SyncTimeline.StartAsync(b, bob, roomId);

        List<string> sent = [];
        for (var round = 1; round <= 3; round++)
        {
            sent.Add(await SayAsync(a, alice, roomId, $"alice {round}", onB, sent.Count + 1));
            sent.Add(await SayAsync(b, bob, roomId, $"bob {round}", onA, sent.Count + 1));
        }
        await onA.UntilAsync(sent.Count);
        await onB.UntilAsync(sent.Count);

        Assert.That(onA.Bodies, Is.EqualTo(sent));
        Assert.That(onB.Bodies, Is.EqualTo(sent));
    }

    [Test]
    public async Task A_server_that_was_down_catches_up_on_what_was_sent_meanwhile_in_sync_in_order_once_each()
    {
        await using var shared = await TwoServerRoom.StartAsync();
        var (a, b, alice, bob, roomId) = shared;
        var onB = await SyncTimeline.StartAsync(b, bob, roomId);

        string[] sent = ["while b was down 1", "while b was down 2", "while b was down 3", "while b was down 4", "while b was down 5"];
        await b.RestartAsync(whileStopped: async () =>
        {
            foreach (var text in sent)
                await a.SendTextAsync(alice, roomId, text);
        });
        await onB.UntilAsync(sent.Length);

        Assert.That(onB.Bodies, Is.EqualTo(sent));
        Assert.That(await MessagesAsync(b, bob, roomId), Is.EqualTo(sent));
    }

    [Test]
    public async Task Two_servers_that_changed_the_room_apart_during_a_partition_converge_with_a_third_on_one_state_once_healed()
    {
        var (a, relayA) = await StartBehindRelayAsync();
        var (b, relayB) = await StartBehindRelayAsync();
        var (c, relayC) = await StartBehindRelayAsync();
        using (relayA)
        using (relayB)
        using (relayC)
        await using (a)
        await using (b)
        await using (c)
        {
            var alice = await a.RegisterAsync(Accounts.UniqueName("alice"));
            var bob = await b.RegisterAsync(Accounts.UniqueName("bob"));
            var dave = await b.RegisterAsync(Accounts.UniqueName("dave"));
            var carol = await c.RegisterAsync(Accounts.UniqueName("carol"));
            var roomId = await a.CreateRoomAsync(alice, PublicChat);
            await JoinViaAsync(b, bob, roomId, a);
            await JoinViaAsync(b, dave, roomId, a);
            await JoinViaAsync(c, carol, roomId, a);
            await SetUserLevelsAsync(a, alice, roomId, new JsonObject { [bob.UserId] = 100 });
            await Poll.UntilAsync(async () => await UserLevelAsync(b, bob, roomId, bob.UserId) == 100 && await UserLevelAsync(c, carol, roomId, bob.UserId) == 100);

            // A and B cannot reach each other (nor C them); both still reach C.
            relayA.Cut();
            relayB.Cut();
            await a.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "A's topic" });
            await SetUserLevelsAsync(a, alice, roomId, new JsonObject { [carol.UserId] = 50 });
            await a.PostRawAsync(alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = dave.UserId });
            await b.PutStateAsync(bob, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "B's topic" });
            await SetUserLevelsAsync(b, bob, roomId, new JsonObject { [dave.UserId] = 10 });
            var daves = await b.SendTextAsync(dave, roomId, "dave, not yet knowing of the ban");
            List<string> messages = ["alice in the partition", "bob in the partition"];
            await a.SendTextAsync(alice, roomId, messages[0]);
            await b.SendTextAsync(bob, roomId, messages[1]);
            var servers = new[] { (a, alice), (b, bob), (c, carol) };
            await Poll.UntilAsync(async () => await EveryoneHasAsync([(c, carol)], roomId, messages));

            // C heard both sides and speaks on their merge, which neither A nor B can hear yet.
            messages.Add("carol in the partition");
            await c.SendTextAsync(carol, roomId, messages[2]);
            Assert.That(await MessagesAsync(a, alice, roomId), Is.EqualTo(messages[..1]), "A did not hear B or C during the partition");
            Assert.That(await MessagesAsync(b, bob, roomId), Is.EqualTo(messages[1..2].Prepend("dave, not yet knowing of the ban")), "B did not hear A or C");

            relayA.Restore();
            relayB.Restore();
            await Poll.UntilAsync(async () => await EveryoneHasAsync(servers, roomId, messages));

            // Each server then speaks on the merged room, once the one before was heard everywhere.
            foreach (var (server, user) in servers)
            {
                var text = $"{user.UserId} after";
                messages.Add(text);
                await server.SendTextAsync(user, roomId, text);
                await Poll.UntilAsync(async () => await EveryoneHasAsync(servers, roomId, messages));
            }
            await Poll.UntilAsync(async () => await SameStateAsync(servers, roomId));

            var states = await Task.WhenAll(servers.Select(s => StateAsync(s.Item1, s.Item2, roomId)));
            await Assert.MultipleAsync(async () =>
            {
                Assert.That(states[1], Is.EqualTo(states[0]), "B's state against A's");
                Assert.That(states[2], Is.EqualTo(states[0]), "C's state against A's");
                Assert.That(states[0], Has.Some.StartsWith($"m.room.member|{dave.UserId}|ban|"), "the ban holds");
                foreach (var (server, user) in servers)
                    Assert.That(await MessagesAsync(server, user, roomId), Is.SupersetOf(messages), server.Name());
                Assert.That(await EventIdsAsync(a, alice, roomId), Does.Not.Contain(daves), "A had banned dave before his message arrived");
                Assert.That(await EventIdsAsync(b, bob, roomId), Does.Contain(daves), "B accepted it while it did not know of the ban");
            });
        }
    }

    [Test]
    public async Task Events_a_remote_forges_or_sends_without_the_right_never_reach_the_clients_sync_messages_or_context()
    {
        await using var server = await TestServer.StartAsync();
        using var remote = new RemoteServer();
        remote.PublishTo(server);
        var alice = await server.RegisterAsync(Accounts.UniqueName("alice"));
        var roomId = await server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat", ["room_version"] = "11" });
        var bob = remote.User("bob");
        var eve = remote.User("eve");
        await remote.JoinAsync(server, roomId, bob);
        var eveJoin = await remote.JoinAsync(server, roomId, eve);
        await server.PostRawAsync(alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = eve });
        var since = (await server.SyncAsync(alice)).NextBatch();

        using var forger = SigningKey.Generate(remote.Key.Version);
        var forged = remote.Event(server, roomId, "m.room.message", null, bob, Text("forged"), signWith: forger);
        var unauthorised = remote.Event(server, roomId, "m.room.name", "", bob, new JsonObject { ["name"] = "bob's room" });
        var evading = remote.Event(server, roomId, "m.room.message", null, eve, Text("from before the ban"), [eveJoin]);
        var answer = await SendTransactionAsync(server, remote, [forged.Json, unauthorised.Json, evading.Json]);
        var good = remote.Event(server, roomId, "m.room.message", null, bob, Text("a fair message"));
        var goodAnswer = await SendTransactionAsync(server, remote, [good.Json]);

        string[] bad = [forged.Id, unauthorised.Id, evading.Id];

        // A soft-failed event is no error to its sender; it stays out of clients' sight all the same.
        Assert.That(bad[..2].Select(id => answer["pdus"]?[id]?["error"]), Has.All.Not.Null, answer.ToJsonString());
        Assert.That(goodAnswer["pdus"]![good.Id]!.AsObject(), Does.Not.ContainKey("error"));

        var timeline = (await server.SyncAsync(alice, since)).Joined(roomId)!.TimelineEvents().EventIds();
        var (status, context) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(good.Id)}?limit=20", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), context?.ToJsonString());
        var around = context!["events_before"]!.AsArray().EventIds().Concat(context["events_after"]!.AsArray().EventIds()).ToList();
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(timeline, Is.EqualTo(SyncApi.Expect(good.Id)));
            Assert.That(await EventIdsAsync(server, alice, roomId), Does.Contain(good.Id).And.No.AnyOf(bad));
            Assert.That(around, Is.Not.Empty.And.No.AnyOf(bad));
            foreach (var id in bad)
            {
                var (badStatus, _) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/context/{RoomApi.Escape(id)}", accessToken: alice.AccessToken);
                Assert.That(badStatus, Is.EqualTo(404), id);
            }
        });
    }

    /// <summary>Sends <paramref name="text"/> and waits until the other side's sync shows <paramref name="count"/> messages.</summary>
    private static async Task<string> SayAsync(TestServer server, TestSession who, string roomId, string text, SyncTimeline otherSide, int count)
    {
        await server.SendTextAsync(who, roomId, text);
        await otherSide.UntilAsync(count);
        return text;
    }

    private static async Task JoinViaAsync(TestServer server, TestSession who, string roomId, TestServer via)
    {
        var (status, body) = await server.PostRawAsync(who, $"{RoomApi.Client}/join/{RoomApi.Escape(roomId)}?via={RoomApi.Escape(via.Name())}");
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    /// <summary>A federating server whose name points at a relay in front of it, which the test can cut.</summary>
    private static async Task<(TestServer Server, TcpRelay Relay)> StartBehindRelayAsync()
    {
        TcpRelay? relay = null;
        var server = await FederatedServer.StartAsync(c =>
        {
            relay = new TcpRelay(c.Port);
            return c with { ServerName = $"localhost:{relay.Port}" };
        });
        return (server, relay!);
    }

    private static async Task<bool> EveryoneHasAsync(IEnumerable<(TestServer Server, TestSession User)> servers, string roomId, IEnumerable<string> messages)
    {
        foreach (var (server, user) in servers)
        {
            var bodies = await MessagesAsync(server, user, roomId);
            if (!messages.All(bodies.Contains))
                return false;
        }
        return true;
    }

    private static async Task<bool> SameStateAsync(IEnumerable<(TestServer Server, TestSession User)> servers, string roomId)
    {
        var states = await Task.WhenAll(servers.Select(s => StateAsync(s.Server, s.User, roomId)));
        return states.All(s => s.SequenceEqual(states[0]));
    }

    /// <summary>The room's current state as <c>/state</c> serves it: type, state key, membership and event id per event, sorted.</summary>
    private static async Task<List<string>> StateAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/state", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return [.. body!.AsArray()
            .Select(e => $"{(string?)e!["type"]}|{(string?)e["state_key"]}|{(string?)e["content"]?["membership"] ?? "-"}|{(string?)e["event_id"]}")
            .Order(StringComparer.Ordinal)];
    }

    private static async Task<int?> UserLevelAsync(TestServer server, TestSession who, string roomId, string userId)
    {
        var (status, body) = await server.GetStateRawAsync(who, roomId, "m.room.power_levels");
        return status == 200 ? (int?)body?["users"]?[userId] : null;
    }

    private static async Task SetUserLevelsAsync(TestServer server, TestSession who, string roomId, JsonObject users)
    {
        var levels = (await server.GetStateAsync(who, roomId, "m.room.power_levels")).DeepClone().AsObject();
        foreach (var (user, level) in users)
            levels["users"]![user] = level!.DeepClone();
        await server.PutStateAsync(who, roomId, "m.room.power_levels", "", levels);
    }

    private static async Task<List<string>> MessagesAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=f&limit=1000", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["chunk"]!.AsArray().Bodies();
    }

    private static async Task<List<string>> EventIdsAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=f&limit=1000", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["chunk"]!.AsArray().EventIds();
    }

    /// <summary><c>PUT /send/{txnId}</c> signed by <paramref name="remote"/>, the way its server would send it.</summary>
    private static async Task<JsonObject> SendTransactionAsync(TestServer server, RemoteServer remote, IEnumerable<JsonObject> pdus)
    {
        var path = $"/_matrix/federation/v1/send/{Guid.NewGuid():N}";
        var body = new JsonObject
        {
            ["origin"] = remote.Name,
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray([.. pdus.Select(p => p.DeepClone())]),
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = JsonContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", XMatrix.Sign(remote.Key, "PUT", path, remote.Name, server.Config.ServerName, body));
        using var response = await server.Http.SendAsync(request);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        Assert.That((int)response.StatusCode, Is.EqualTo(200), answer?.ToJsonString());
        return answer!.AsObject();
    }

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    private static JsonObject Text(string body) => new() { ["msgtype"] = "m.text", ["body"] = body };

    /// <summary>Two federating servers: alice of A in her public room, and bob of B joined to it through A.</summary>
    private sealed record TwoServerRoom(TestServer A, TestServer B, TestSession Alice, TestSession Bob, string RoomId) : IAsyncDisposable
    {
        public static async Task<TwoServerRoom> StartAsync()
        {
            var servers = await Task.WhenAll(FederatedServer.StartAsync(), FederatedServer.StartAsync());
            var alice = await servers[0].RegisterAsync(Accounts.UniqueName("alice"));
            var bob = await servers[1].RegisterAsync(Accounts.UniqueName("bob"));
            var roomId = await servers[0].CreateRoomAsync(alice, PublicChat);
            await JoinViaAsync(servers[1], bob, roomId, servers[0]);
            return new TwoServerRoom(servers[0], servers[1], alice, bob, roomId);
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    /// <summary>A user's view of one room through incremental <c>/sync</c>: the message bodies of its timelines, in the order served.</summary>
    private sealed class SyncTimeline(TestServer server, TestSession who, string roomId, string since)
    {
        private string _since = since;

        public List<string> Bodies { get; } = [];

        public static async Task<SyncTimeline> StartAsync(TestServer server, TestSession who, string roomId) =>
            new(server, who, roomId, (await server.SyncAsync(who)).NextBatch());

        /// <summary>Syncs until the timelines served hold <paramref name="count"/> messages (or about a minute passed).</summary>
        public Task UntilAsync(int count) => Poll.UntilAsync(async () =>
        {
            var sync = await server.SyncAsync(who, _since);
            _since = sync.NextBatch();
            if (sync.Joined(roomId) is { } room)
            {
                Assert.That((bool?)room["timeline"]?["limited"] ?? false, Is.False, "a gap in the timeline");
                Bodies.AddRange(room.TimelineEvents().Bodies());
            }
            return Bodies.Count >= count;
        });
    }
}
