using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// Rooms a server knows only in part: a room it left and joins again (through a server still in it,
/// since its own state is stale), the events it holds as outliers from a join (which enter the timeline
/// when they arrive in their place), and room version 12 auth chains, whose events do not list the
/// create event but still rest on it.
/// </summary>
public sealed class FederationRejoinTests() : FederatedFixture(2)
{
    [Test]
    public async Task Joining_again_a_room_left_goes_through_a_server_still_in_it_and_sees_what_changed_meanwhile()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, alice);
        await JoinViaAsync(B, bob, roomId, A);
        await B.LeaveAsync(bob, roomId);
        await Poll.UntilAsync(async () => !(await JoinedAsync(A, alice, roomId)).Contains(bob.UserId));
        await A.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "changed while bob was away" });

        await B.JoinAsync(bob, roomId);

        var topic = await B.GetStateAsync(bob, roomId, "m.room.topic");
        Assert.That((string?)topic["topic"], Is.EqualTo("changed while bob was away"));
        Assert.That(await JoinedAsync(A, alice, roomId), Does.Contain(bob.UserId));
        await A.SendTextAsync(alice, roomId, "welcome back");
        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Contains("welcome back"));
        Assert.That(await MessagesAsync(B, bob, roomId), Does.Contain("welcome back"));
    }

    [Test]
    public async Task An_event_held_as_an_outlier_that_arrives_through_send_enters_the_timeline()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");

        // It enters the timeline after bob's second join: only world-readable history shows it to him there.
        var roomId = await PublicRoomAsync(A, alice, new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = "world_readable" },
            }),
        });
        await JoinViaAsync(B, bob, roomId, A);
        await B.LeaveAsync(bob, roomId);
        await Poll.UntilAsync(async () => !(await JoinedAsync(A, alice, roomId)).Contains(bob.UserId));
        var topicId = await A.PutStateAsync(alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "set while bob was away" });
        await B.JoinAsync(bob, roomId);
        Assert.That(await TimelineIdsAsync(B, bob, roomId), Does.Not.Contain(topicId), "the topic came with the join's state, outside the timeline");

        // The topic again, as a server that had not sent it to B before would send it.
        var topic = (await B.FederationClient().GetAsync(A.Name(), $"/_matrix/federation/v1/event/{RoomApi.Escape(topicId)}", CancellationToken.None))["pdus"]![0]!;
        var answer = await A.FederationClient().PutAsync(B.Name(), "/_matrix/federation/v1/send/outlier-again", new JsonObject
        {
            ["origin"] = A.Name(),
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(topic.DeepClone()),
        }, CancellationToken.None);

        Assert.That(answer["pdus"]![topicId]!.AsObject(), Does.Not.ContainKey("error"));
        Assert.That(await TimelineIdsAsync(B, bob, roomId), Does.Contain(topicId));
        await A.SendTextAsync(alice, roomId, "after the topic");
        await Poll.UntilAsync(async () => (await MessagesAsync(B, bob, roomId)).Contains("after the topic"));
        Assert.That((string?)(await B.GetStateAsync(bob, roomId, "m.room.topic"))["topic"], Is.EqualTo("set while bob was away"));
    }

    [Test]
    public async Task In_a_room_version_12_room_event_auth_and_state_ids_include_the_create_event()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, alice, new JsonObject { ["room_version"] = "12" });
        await JoinViaAsync(B, bob, roomId, A);
        var messageId = await A.SendTextAsync(alice, roomId, "hello");
        var createId = "$" + roomId[1..];

        var eventAuth = await B.FederationClient().GetAsync(A.Name(), $"/_matrix/federation/v1/event_auth/{RoomApi.Escape(roomId)}/{RoomApi.Escape(messageId)}", CancellationToken.None);
        var stateIds = await B.FederationClient().GetAsync(A.Name(), $"/_matrix/federation/v1/state_ids/{RoomApi.Escape(roomId)}?event_id={RoomApi.Escape(messageId)}", CancellationToken.None);

        Assert.That(eventAuth["auth_chain"]!.AsArray().Select(e => (string?)e!["type"]), Does.Contain("m.room.create"));
        Assert.That(stateIds["auth_chain_ids"]!.AsArray().Select(id => (string?)id), Does.Contain(createId));
    }

    private static async Task<List<string>> JoinedAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/joined_members", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return [.. body!["joined"]!.AsObject().Select(p => p.Key)];
    }

    private static async Task<List<string>> TimelineIdsAsync(TestServer server, TestSession who, string roomId)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1000", accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!["chunk"]!.AsArray().EventIds();
    }
}
