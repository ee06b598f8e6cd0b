using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// <c>PUT /_matrix/federation/v1/send/{txnId}</c> between two real servers: A's user joins a public room
/// of B through a PDU signed with A's own key (the room's joins are not needed for this), then A's
/// transactions reach B, once each, within the limits, with EDUs only for A's users; and A's queue
/// delivers to B after B was down and A restarted.
/// </summary>
public sealed class FederationTransactionTests : FederatedFixture
{
    private const string Message = "m.room.message";

    private RemoteServer _asA = null!;

    [OneTimeSetUp]
    public void SpeakAsA() => _asA = new RemoteServer(A.Name());

    [OneTimeTearDown]
    public void StopSpeakingAsA() => _asA.Dispose();

    [Test]
    public async Task The_same_transaction_sent_twice_is_applied_once_and_answered_as_the_first_time()
    {
        var (alice, roomId) = await PublicRoomOnBAsync();
        var bob = _asA.User(Accounts.UniqueName("bob"));
        var join = Event(roomId, "m.room.member", bob, bob, new JsonObject { ["membership"] = "join" });

        var first = await SendAsync("txn-twice-" + roomId, [join.Json]);
        var message = Event(roomId, Message, null, bob, new JsonObject { ["msgtype"] = "m.text", ["body"] = "only in the retry" }, [join.Id]);
        var again = await SendAsync("txn-twice-" + roomId, [message.Json]);

        Assert.That(first["pdus"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { join.Id }));
        Assert.That(first["pdus"]![join.Id]!.AsObject(), Has.Count.EqualTo(0), "no error for the join");
        Assert.That(again.ToJsonString(), Is.EqualTo(first.ToJsonString()));
        var (status, _) = await B.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/event/{Uri.EscapeDataString(message.Id)}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404), "the retried transaction's different PDU was not applied");
        var members = await B.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: alice.AccessToken);
        Assert.That(members.Body!["joined"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { alice.UserId, bob }));
    }

    [TestCase(51, 0)]
    [TestCase(0, 101)]
    public async Task A_transaction_with_more_than_50_PDUs_or_100_EDUs_is_400(int pdus, int edus)
    {
        var body = Transaction(
            [.. Enumerable.Range(0, pdus).Select(i => new JsonObject { ["room_id"] = "!nowhere:example.org", ["n"] = i })],
            [.. Enumerable.Range(0, edus).Select(i => new JsonObject { ["edu_type"] = "org.example.test", ["content"] = new JsonObject { ["n"] = i } })]);

        var error = Assert.ThrowsAsync<FederationException>(() => A.FederationClient().PutAsync(B.Name(), "/_matrix/federation/v1/send/too-big", body, CancellationToken.None));

        Assert.That(error!.Status, Is.EqualTo(400));
        Assert.That((string?)error.Body?["errcode"], Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task A_transaction_whose_origin_is_not_the_signing_server_is_403()
    {
        var body = Transaction([], []);
        body["origin"] = "elsewhere.example.org";

        var error = Assert.ThrowsAsync<FederationException>(() => A.FederationClient().PutAsync(B.Name(), "/_matrix/federation/v1/send/other-origin", body, CancellationToken.None));

        Assert.That(error!.Status, Is.EqualTo(403));
        Assert.That((string?)error.Body?["errcode"], Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Typing_and_a_receipt_of_the_origin_s_user_reach_sync_and_forged_ones_for_another_server_s_user_are_ignored()
    {
        var (alice, roomId) = await PublicRoomOnBAsync();
        var bob = _asA.User(Accounts.UniqueName("bob"));
        var join = Event(roomId, "m.room.member", bob, bob, new JsonObject { ["membership"] = "join" });
        await SendAsync("typing-join-" + roomId, [join.Json]);
        using var other = new RemoteServer("other.test");
        other.PublishTo(B);
        var carol = other.User("carol");
        await other.JoinAsync(B, roomId, carol);

        await SendAsync("typing-" + roomId, [], [
            Typing(roomId, bob),
            Typing(roomId, carol),
            Receipt(roomId, bob, join.Id),
            Receipt(roomId, carol, join.Id),
        ]);

        var ephemeral = (await B.SyncAsync(alice)).Joined(roomId)!["ephemeral"]!["events"]!.AsArray();
        var typing = ephemeral.Single(e => (string?)e!["type"] == "m.typing");
        Assert.That(typing!["content"]!["user_ids"]!.AsArray().Select(u => (string?)u), Is.EqualTo(new[] { bob }));
        var receipts = ephemeral.Single(e => (string?)e!["type"] == "m.receipt");
        Assert.That(receipts!["content"]![join.Id]!["m.read"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { bob }));
    }

    [Test]
    public async Task A_destination_that_was_down_gets_the_queued_PDU_when_it_is_back_also_after_the_sender_restarted()
    {
        var (alice, roomId) = await PublicRoomOnBAsync();
        var bob = _asA.User(Accounts.UniqueName("bob"));
        var join = Event(roomId, "m.room.member", bob, bob, new JsonObject { ["membership"] = "join" });

        await B.RestartAsync(config =>
        {
            var sender = A.Host.Services.GetRequiredService<FederationSender>();
            sender.EnqueuePdu([B.Name()], join.Json);
            A.RestartAsync().GetAwaiter().GetResult();
            return config;
        });

        var path = $"{RoomApi.RoomPath(roomId)}/event/{Uri.EscapeDataString(join.Id)}";
        var status = 0;
        await Poll.UntilAsync(() => (status = B.SendAsync(HttpMethod.Get, path, accessToken: alice.AccessToken).GetAwaiter().GetResult().Status) == 200);
        Assert.That(status, Is.EqualTo(200));
        var room = (await B.SyncAsync(alice)).Joined(roomId)!;
        Assert.That(room.TimelineEvents().EventIds(), Does.Contain(join.Id));
    }

    private async Task<(TestSession User, string RoomId)> PublicRoomOnBAsync() =>
        await B.UserWithRoomAsync("alice", new JsonObject { ["preset"] = "public_chat" });

    /// <summary>A PDU of A's user, signed with A's own key (B fetches it from A), on top of B's copy of the room.</summary>
    private RemotePdu Event(string roomId, string type, string? stateKey, string sender, JsonObject content, IReadOnlyList<string>? prevEventIds = null) =>
        _asA.Event(B, roomId, type, stateKey, sender, content, prevEventIds, A.OwnKey().SigningKey);

    private JsonObject Transaction(JsonObject[] pdus, JsonObject[] edus) => new()
    {
        ["origin"] = A.Name(),
        ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        ["pdus"] = new JsonArray([.. pdus.Select(p => (JsonNode)p.DeepClone())]),
        ["edus"] = new JsonArray([.. edus.Select(e => (JsonNode)e.DeepClone())]),
    };

    private Task<JsonObject> SendAsync(string txnId, JsonObject[] pdus, JsonObject[]? edus = null) =>
        A.FederationClient().PutAsync(B.Name(), $"/_matrix/federation/v1/send/{Uri.EscapeDataString(txnId)}", Transaction(pdus, edus ?? []), CancellationToken.None);

    private static JsonObject Receipt(string roomId, string userId, string eventId) => new()
    {
        ["edu_type"] = "m.receipt",
        ["content"] = new JsonObject
        {
            [roomId] = new JsonObject
            {
                ["m.read"] = new JsonObject
                {
                    [userId] = new JsonObject { ["event_ids"] = new JsonArray(JsonValue.Create(eventId)), ["data"] = new JsonObject { ["ts"] = 1 } },
                },
            },
        },
    };

    private static JsonObject Typing(string roomId, string userId) => new()
    {
        ["edu_type"] = "m.typing",
        ["content"] = new JsonObject { ["room_id"] = roomId, ["user_id"] = userId, ["typing"] = true },
    };
}
