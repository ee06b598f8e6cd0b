using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Spaces;

public sealed class SpaceHierarchyTests : ServerFixture
{
    private string Via => Server.Config.ServerName;

    [Test]
    public async Task The_space_comes_first_then_its_children_depth_first_each_with_its_summary()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Top");
        var subspace = await Server.CreateSpaceAsync(owner, "Sub");
        var general = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat", ["name"] = "General", ["topic"] = "chat" });
        var nested = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat", ["name"] = "Nested" });
        await Server.AddChildAsync(owner, space, general, Via, new JsonObject { ["order"] = "b" });
        await Server.AddChildAsync(owner, space, subspace, Via, new JsonObject { ["order"] = "a" });
        await Server.AddChildAsync(owner, subspace, nested, Via);

        var page = await Server.HierarchyAsync(owner, space);

        Assert.That(SpaceApi.RoomIds(page), Is.EqualTo(new[] { space, subspace, nested, general }));
        Assert.That(page.ContainsKey("next_batch"), Is.False);
        var top = SpaceApi.Room(page, space);
        Assert.That((string?)top["room_type"], Is.EqualTo("m.space"));
        Assert.That((string?)top["name"], Is.EqualTo("Top"));
        Assert.That((string?)top["join_rule"], Is.EqualTo("public"));
        Assert.That((int)top["num_joined_members"]!, Is.EqualTo(1));
        Assert.That((bool)top["world_readable"]!, Is.False);
        Assert.That((bool)top["guest_can_join"]!, Is.False);
        var childrenState = top["children_state"]!.AsArray();
        Assert.That(childrenState.Select(c => (string)c!["state_key"]!), Is.EquivalentTo(new[] { general, subspace }));
        var child = childrenState.Single(c => (string)c!["state_key"]! == general)!.AsObject();
        Assert.That((string?)child["type"], Is.EqualTo("m.space.child"));
        Assert.That((string?)child["sender"], Is.EqualTo(owner.UserId));
        Assert.That((long)child["origin_server_ts"]!, Is.GreaterThan(0));
        Assert.That((string?)child["content"]!["via"]![0], Is.EqualTo(Via));
        Assert.That(child.ContainsKey("event_id"), Is.False, "children_state holds stripped events");
        var room = SpaceApi.Room(page, general);
        Assert.That((string?)room["topic"], Is.EqualTo("chat"));
        Assert.That(room.ContainsKey("room_type"), Is.False);
        Assert.That(room["children_state"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Rooms_the_user_may_neither_join_nor_see_are_left_out()
    {
        var owner = await NewUserAsync("owner");
        var visitor = await NewUserAsync("visitor");
        var space = await Server.CreateSpaceAsync(owner, "Mixed");
        var open = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
        var closed = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "private_chat" });
        var readable = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "private_chat" });
        await Server.PutStateAsync(owner, readable, "m.room.history_visibility", "", new JsonObject { ["history_visibility"] = "world_readable" });
        var invited = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "private_chat" });
        await Server.InviteAsync(owner, invited, visitor.UserId);
        foreach (var child in new[] { open, closed, readable, invited })
            await Server.AddChildAsync(owner, space, child, Via);

        var seen = SpaceApi.RoomIds(await Server.HierarchyAsync(visitor, space));

        Assert.That(seen, Is.EquivalentTo(new[] { space, open, readable, invited }));
        Assert.That(SpaceApi.RoomIds(await Server.HierarchyAsync(owner, space)), Does.Contain(closed), "a member sees every room");
    }

    [Test]
    public async Task A_restricted_room_is_listed_with_allowed_room_ids_to_members_of_an_allowed_room_only()
    {
        var owner = await NewUserAsync("owner");
        var member = await NewUserAsync("member");
        var stranger = await NewUserAsync("stranger");
        var space = await Server.CreateSpaceAsync(owner, "Restricted");
        var allowedRoom = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "private_chat" });
        await Server.InviteAsync(owner, allowedRoom, member.UserId);
        await Server.JoinAsync(member, allowedRoom);
        var restricted = await Server.CreateRoomAsync(owner, new JsonObject
        {
            ["preset"] = "private_chat",
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.join_rules",
                ["state_key"] = "",
                ["content"] = new JsonObject
                {
                    ["join_rule"] = "restricted",
                    ["allow"] = new JsonArray(new JsonObject { ["type"] = "m.room_membership", ["room_id"] = allowedRoom }),
                },
            }),
        });
        await Server.AddChildAsync(owner, space, restricted, Via);

        var memberPage = await Server.HierarchyAsync(member, space);
        var strangerPage = await Server.HierarchyAsync(stranger, space);

        Assert.That(SpaceApi.RoomIds(memberPage), Does.Contain(restricted));
        var entry = SpaceApi.Room(memberPage, restricted);
        Assert.That((string?)entry["join_rule"], Is.EqualTo("restricted"));
        Assert.That(entry["allowed_room_ids"]!.AsArray().Select(r => (string)r!), Is.EqualTo(new[] { allowedRoom }));
        Assert.That(SpaceApi.RoomIds(strangerPage), Is.EqualTo(new[] { space }));
    }

    [Test]
    public async Task Suggested_only_follows_only_children_marked_suggested()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Suggestions");
        var suggested = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
        var other = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
        await Server.AddChildAsync(owner, space, suggested, Via, new JsonObject { ["suggested"] = true });
        await Server.AddChildAsync(owner, space, other, Via);

        var page = await Server.HierarchyAsync(owner, space, "suggested_only=true");

        Assert.That(SpaceApi.RoomIds(page), Is.EqualTo(new[] { space, suggested }));
        Assert.That(SpaceApi.Room(page, space)["children_state"]!.AsArray().Select(c => (string)c!["state_key"]!), Is.EqualTo(new[] { suggested }));
    }

    [Test]
    public async Task A_child_without_via_is_no_child()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Removed");
        var room = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
        await Server.PutStateAsync(owner, space, "m.space.child", room, new JsonObject());

        var page = await Server.HierarchyAsync(owner, space);

        Assert.That(SpaceApi.RoomIds(page), Is.EqualTo(new[] { space }));
        Assert.That(SpaceApi.Room(page, space)["children_state"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task Max_depth_stops_the_walk_and_a_loop_lists_each_room_once()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Loop");
        var inner = await Server.CreateSpaceAsync(owner, "Inner");
        var leaf = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
        await Server.AddChildAsync(owner, space, inner, Via);
        await Server.AddChildAsync(owner, inner, space, Via);
        await Server.AddChildAsync(owner, inner, leaf, Via);

        Assert.That(SpaceApi.RoomIds(await Server.HierarchyAsync(owner, space)), Is.EqualTo(new[] { space, inner, leaf }));
        Assert.That(SpaceApi.RoomIds(await Server.HierarchyAsync(owner, space, "max_depth=0")), Is.EqualTo(new[] { space }));
        Assert.That(SpaceApi.RoomIds(await Server.HierarchyAsync(owner, space, "max_depth=1")), Is.EqualTo(new[] { space, inner }));
    }

    [Test]
    public async Task Limit_pages_the_walk_through_next_batch_and_the_pages_join_up()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Paged");
        var children = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var room = await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" });
            await Server.AddChildAsync(owner, space, room, Via, new JsonObject { ["order"] = $"{i}" });
            children.Add(room);
        }

        var seen = new List<string>();
        var pages = 0;
        string? from = null;
        do
        {
            var page = await Server.HierarchyAsync(owner, space, "limit=2" + (from is null ? "" : "&from=" + Uri.EscapeDataString(from)));
            Assert.That(page["rooms"]!.AsArray(), Has.Count.LessThanOrEqualTo(2));
            seen.AddRange(SpaceApi.RoomIds(page));
            from = (string?)page["next_batch"];
            pages++;
        }
        while (from is not null);

        Assert.That(seen, Is.EqualTo(new[] { space }.Concat(children)));
        Assert.That(pages, Is.EqualTo(3));
    }

    [Test]
    public async Task Changing_suggested_only_or_max_depth_while_paginating_is_400_M_INVALID_PARAM()
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Strict");
        for (var i = 0; i < 3; i++)
            await Server.AddChildAsync(owner, space, await Server.CreateRoomAsync(owner, new JsonObject { ["preset"] = "public_chat" }), Via);
        var first = await Server.HierarchyAsync(owner, space, "limit=1&max_depth=3");
        var token = Uri.EscapeDataString((string)first["next_batch"]!);

        var (suggestedStatus, suggestedBody) = await Server.HierarchyRawAsync(owner, space, $"limit=1&max_depth=3&suggested_only=true&from={token}");
        var (depthStatus, depthBody) = await Server.HierarchyRawAsync(owner, space, $"limit=1&max_depth=2&from={token}");
        var (unknownStatus, unknownBody) = await Server.HierarchyRawAsync(owner, space, "from=nonsense");

        Assert.That((suggestedStatus, (string?)suggestedBody!["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That((depthStatus, (string?)depthBody!["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That((unknownStatus, (string?)unknownBody!["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [TestCase("limit=0")]
    [TestCase("limit=ten")]
    [TestCase("max_depth=-1")]
    [TestCase("suggested_only=yes")]
    public async Task A_bad_parameter_is_400_M_INVALID_PARAM(string query)
    {
        var owner = await NewUserAsync("owner");
        var space = await Server.CreateSpaceAsync(owner, "Params");

        var (status, body) = await Server.HierarchyRawAsync(owner, space, query);

        Assert.That((status, (string?)body!["errcode"]), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [Test]
    public async Task A_space_the_user_may_not_see_or_an_unknown_room_is_403_M_FORBIDDEN()
    {
        var owner = await NewUserAsync("owner");
        var stranger = await NewUserAsync("stranger");
        var secret = await Server.CreateSpaceAsync(owner, "Secret", preset: "private_chat");

        var (status, body) = await Server.HierarchyRawAsync(stranger, secret);
        var (unknownStatus, unknownBody) = await Server.HierarchyRawAsync(stranger, $"!unknown:{Via}");

        Assert.That((status, (string?)body!["errcode"]), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((unknownStatus, (string?)unknownBody!["errcode"]), Is.EqualTo((403, "M_FORBIDDEN")));
    }
}
