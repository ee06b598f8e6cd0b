using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Spaces;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// Spaces across two servers: a space on A with a child room on A and one on B, walked by a user on A
/// (B's room described by B over federation) and by a user on B who joined the space (A's room
/// described by A); and the federation <c>/hierarchy</c> B serves.
/// </summary>
public sealed class FederationSpaceTests() : FederatedFixture(2)
{
    [Test]
    public async Task A_space_on_A_with_children_on_A_and_B_is_walked_the_same_from_both_servers()
    {
        var ownerA = await NewUserAsync(A, "spaceowner");
        var ownerB = await NewUserAsync(B, "roomowner");
        var walkerB = await NewUserAsync(B, "walker");
        var space = await A.CreateSpaceAsync(ownerA, "Across");
        var roomA = await PublicRoomAsync(A, ownerA, new JsonObject { ["name"] = "Room on A" });
        var roomB = await PublicRoomAsync(B, ownerB, new JsonObject { ["name"] = "Room on B", ["topic"] = "from B" });
        var privateB = await B.CreateRoomAsync(ownerB, new JsonObject { ["preset"] = "private_chat" });
        await A.AddChildAsync(ownerA, space, roomA, A.Name(), new JsonObject { ["order"] = "1" });
        await A.AddChildAsync(ownerA, space, roomB, B.Name(), new JsonObject { ["order"] = "2" });
        await A.AddChildAsync(ownerA, space, privateB, B.Name(), new JsonObject { ["order"] = "3" });
        await JoinViaAsync(B, walkerB, space, A);

        var fromA = await A.HierarchyAsync(ownerA, space);
        var fromB = await B.HierarchyAsync(walkerB, space);

        Assert.That(SpaceApi.RoomIds(fromA), Is.EqualTo(new[] { space, roomA, roomB }), "the private room on B is not A's user's to see");
        Assert.That(SpaceApi.RoomIds(fromB), Is.EqualTo(new[] { space, roomA, roomB }));
        var remoteToA = SpaceApi.Room(fromA, roomB);
        Assert.That((string?)remoteToA["name"], Is.EqualTo("Room on B"));
        Assert.That((string?)remoteToA["topic"], Is.EqualTo("from B"));
        Assert.That((string?)remoteToA["join_rule"], Is.EqualTo("public"));
        Assert.That((int)remoteToA["num_joined_members"]!, Is.EqualTo(1));
        Assert.That(remoteToA["children_state"]!.AsArray(), Is.Empty);
        var remoteToB = SpaceApi.Room(fromB, roomA);
        Assert.That((string?)remoteToB["name"], Is.EqualTo("Room on A"));
        Assert.That(SpaceApi.Room(fromB, space)["children_state"]!.AsArray().Select(c => (string)c!["state_key"]!),
            Is.EquivalentTo(new[] { roomA, roomB, privateB }));
        Assert.That((int)SpaceApi.Room(fromB, space)["num_joined_members"]!, Is.EqualTo(2));
    }

    [Test]
    public async Task A_subspace_on_B_is_asked_of_B_and_its_children_walked_from_A()
    {
        var ownerA = await NewUserAsync(A, "spaceowner");
        var ownerB = await NewUserAsync(B, "subowner");
        var space = await A.CreateSpaceAsync(ownerA, "Outer");
        var subspace = await B.CreateSpaceAsync(ownerB, "Inner on B");
        var leaf = await PublicRoomAsync(B, ownerB, new JsonObject { ["name"] = "Leaf on B" });
        await B.AddChildAsync(ownerB, subspace, leaf, B.Name());
        await A.AddChildAsync(ownerA, space, subspace, B.Name());

        var page = await A.HierarchyAsync(ownerA, space);

        Assert.That(SpaceApi.RoomIds(page), Is.EqualTo(new[] { space, subspace, leaf }));
        Assert.That((string?)SpaceApi.Room(page, subspace)["room_type"], Is.EqualTo("m.space"));
        Assert.That(SpaceApi.Room(page, subspace)["children_state"]!.AsArray().Select(c => (string)c!["state_key"]!), Is.EqualTo(new[] { leaf }));
        Assert.That((string?)SpaceApi.Room(page, leaf)["name"], Is.EqualTo("Leaf on B"));
    }

    [Test]
    public async Task Federation_hierarchy_answers_the_room_its_visible_children_and_the_inaccessible_ones()
    {
        var ownerB = await NewUserAsync(B, "owner");
        var space = await B.CreateSpaceAsync(ownerB, "Served");
        var open = await PublicRoomAsync(B, ownerB, new JsonObject { ["name"] = "Open" });
        var closed = await B.CreateRoomAsync(ownerB, new JsonObject { ["preset"] = "private_chat" });
        var suggested = await PublicRoomAsync(B, ownerB, new JsonObject { ["name"] = "Suggested" });
        await B.AddChildAsync(ownerB, space, open, B.Name());
        await B.AddChildAsync(ownerB, space, closed, B.Name());
        await B.AddChildAsync(ownerB, space, suggested, B.Name(), new JsonObject { ["suggested"] = true });
        await B.AddChildAsync(ownerB, space, $"!unknown:{B.Name()}", B.Name());

        var answer = await A.FederationClient().GetAsync(B.Name(), $"/_matrix/federation/v1/hierarchy/{RoomApi.Escape(space)}", CancellationToken.None);
        var suggestedOnly = await A.FederationClient().GetAsync(B.Name(), $"/_matrix/federation/v1/hierarchy/{RoomApi.Escape(space)}?suggested_only=true", CancellationToken.None);

        Assert.That((string?)answer["room"]!["room_id"], Is.EqualTo(space));
        Assert.That((string?)answer["room"]!["room_type"], Is.EqualTo("m.space"));
        Assert.That(answer["room"]!["children_state"]!.AsArray(), Has.Count.EqualTo(4));
        Assert.That(answer["children"]!.AsArray().Select(c => (string)c!["room_id"]!), Is.EquivalentTo(new[] { open, suggested }));
        Assert.That(answer["inaccessible_children"]!.AsArray().Select(c => (string)c!), Is.EqualTo(new[] { closed }));
        Assert.That(suggestedOnly["children"]!.AsArray().Select(c => (string)c!["room_id"]!), Is.EqualTo(new[] { suggested }));
        Assert.That(suggestedOnly["inaccessible_children"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Federation_hierarchy_of_a_room_the_server_may_not_see_or_does_not_know_is_404_M_NOT_FOUND()
    {
        var ownerB = await NewUserAsync(B, "owner");
        var secret = await B.CreateSpaceAsync(ownerB, "Secret", preset: "private_chat");

        foreach (var roomId in new[] { secret, $"!unknown:{B.Name()}" })
        {
            try
            {
                await A.FederationClient().GetAsync(B.Name(), $"/_matrix/federation/v1/hierarchy/{RoomApi.Escape(roomId)}", CancellationToken.None);
                Assert.Fail($"{roomId} was answered.");
            }
            catch (FederationException e)
            {
                Assert.That((e.Status, (string?)e.Body?["errcode"]), Is.EqualTo(((int?)404, "M_NOT_FOUND")));
            }
        }
    }
}
