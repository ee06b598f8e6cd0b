using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Relations;

/// <summary>
/// <c>GET /relations</c>: the three path forms, <c>recurse</c>, malformed relations, and who may read
/// what (history visibility, non-members).
/// </summary>
public sealed class RelationsEndpointTests : ServerFixture
{
    private async Task<(TestSession Alice, TestSession Bob, string RoomId)> RoomWithTwoAsync(string historyVisibility = "shared")
    {
        var alice = await Server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await Server.RegisterAsync(Accounts.UniqueName("bob"));
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject
        {
            ["preset"] = "public_chat",
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = historyVisibility },
            }),
        });
        await Server.JoinAsync(bob, roomId);
        return (alice, bob, roomId);
    }

    [Test]
    public async Task The_three_path_forms_filter_by_relation_type_and_event_type()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync();
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var reply = await Server.ReplyInThreadAsync(bob, roomId, root, "reply");
        var reaction = await Server.ReactAsync(bob, roomId, root, "👀");
        var customAnnotation = await Server.SendAsync(alice, roomId, "org.example.vote", RelationsApi.Reaction(root, "yes"));

        var all = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root));
        Assert.That(all.ChunkIds(), Is.EqualTo(new[] { customAnnotation, reaction, reply }), "every child, newest first");
        var annotations = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root, "m.annotation"));
        Assert.That(annotations.ChunkIds(), Is.EqualTo(new[] { customAnnotation, reaction }));
        var reactions = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root, "m.annotation", "m.reaction"));
        Assert.That(reactions.ChunkIds(), Is.EqualTo(new[] { reaction }));
        var thread = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root, "m.thread"));
        Assert.That(thread.ChunkIds(), Is.EqualTo(new[] { reply }));
        Assert.That((string?)thread["chunk"]![0]!["room_id"], Is.EqualTo(roomId), "children are client events");
    }

    [Test]
    public async Task Recurse_finds_relations_of_relations_through_matching_children_only()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync();
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var reply = await Server.ReplyInThreadAsync(bob, roomId, root, "reply");
        var reactionToReply = await Server.ReactAsync(alice, roomId, reply, "👍");
        var editOfReply = await Server.EditAsync(bob, roomId, reply, "reply, edited");

        var direct = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root) + "?recurse=false");
        Assert.That(direct.ChunkIds(), Is.EqualTo(new[] { reply }));
        Assert.That((int?)direct["recursion_depth"], Is.EqualTo(1));

        var deep = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root) + "?recurse=true");
        Assert.That(deep.ChunkIds(), Is.EqualTo(new[] { editOfReply, reactionToReply, reply }));
        Assert.That((int?)deep["recursion_depth"], Is.GreaterThanOrEqualTo(3));

        var forwardPage = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root) + "?recurse=true&dir=f&limit=2");
        Assert.That(forwardPage.ChunkIds(), Is.EqualTo(new[] { reply, reactionToReply }));
        Assert.That(forwardPage["next_batch"], Is.Not.Null);

        var threadOnly = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root, "m.thread") + "?recurse=true");
        Assert.That(threadOnly.ChunkIds(), Is.EqualTo(new[] { reply }), "the reaction relates through an m.thread event but is not one");
        var annotationsOnly = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root, "m.annotation") + "?recurse=true");
        Assert.That(annotationsOnly.ChunkIds(), Is.Empty, "the reaction is reachable only through a non-matching event");
    }

    [Test]
    public async Task A_malformed_relation_is_stored_but_not_indexed()
    {
        var (alice, _, roomId) = await RoomWithTwoAsync();
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var noRelType = await Server.SendAsync(alice, roomId, "m.room.message", new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "x",
            ["m.relates_to"] = new JsonObject { ["event_id"] = root },
        });
        var badParent = await Server.SendAsync(alice, roomId, "m.room.message", new JsonObject
        {
            ["msgtype"] = "m.text",
            ["body"] = "y",
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.thread", ["event_id"] = 42 },
        });

        Assert.That((string?)(await Server.GetEventAsync(alice, roomId, noRelType))["content"]!["body"], Is.EqualTo("x"));
        Assert.That((string?)(await Server.GetEventAsync(alice, roomId, badParent))["content"]!["body"], Is.EqualTo("y"));
        var children = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, root));
        Assert.That(children.ChunkIds(), Is.Empty);
    }

    [Test]
    public async Task An_unknown_parent_or_one_from_another_room_is_404()
    {
        var (alice, _, roomId) = await RoomWithTwoAsync();
        var otherRoom = await Server.CreateRoomAsync(alice);
        var elsewhere = await Server.SendTextAsync(alice, otherRoom, "elsewhere");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, "$unknown"), accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, elsewhere), accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task A_parent_hidden_by_history_visibility_is_404_and_hidden_children_are_left_out()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync(historyVisibility: "joined");
        var beforeCarol = await Server.SendTextAsync(alice, roomId, "before carol");
        var carol = await Server.RegisterAsync(Accounts.UniqueName("carol"));
        await Server.JoinAsync(carol, roomId);
        var root = await Server.SendTextAsync(alice, roomId, "while carol is here");
        var seen = await Server.ReactAsync(bob, roomId, root, "1");
        await Server.LeaveAsync(carol, roomId);
        var missed = await Server.ReactAsync(bob, roomId, root, "2");
        await Server.JoinAsync(carol, roomId);
        var seenAgain = await Server.ReactAsync(alice, roomId, root, "3");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, beforeCarol), accessToken: carol.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));

        var seenByCarol = await Server.GetOkAsync(carol, RelationsApi.RelationsPath(roomId, root));
        Assert.That(seenByCarol.ChunkIds(), Is.EqualTo(new[] { seenAgain, seen }), "the reaction sent while carol was away is hidden from her");
        var seenByBob = await Server.GetOkAsync(bob, RelationsApi.RelationsPath(roomId, root));
        Assert.That(seenByBob.ChunkIds(), Is.EqualTo(new[] { seenAgain, missed, seen }));
    }

    [Test]
    public async Task A_user_outside_the_room_is_403_and_bad_parameters_are_400()
    {
        var (alice, _, roomId) = await RoomWithTwoAsync();
        var root = await Server.SendTextAsync(alice, roomId, "root");
        var privateRoom = await Server.CreateRoomAsync(alice);
        var secret = await Server.SendTextAsync(alice, privateRoom, "secret");
        var outsider = await Server.RegisterAsync(Accounts.UniqueName("outsider"));

        var (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(privateRoom, secret), accessToken: outsider.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, root) + "?dir=sideways", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, root) + "?recurse=yes", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, root) + "?from=abc", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, _) = await Server.SendAsync(HttpMethod.Get, RelationsApi.RelationsPath(roomId, root));
        Assert.That(status, Is.EqualTo(401));
    }
}
