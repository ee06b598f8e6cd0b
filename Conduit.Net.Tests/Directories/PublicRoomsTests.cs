using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Directories;

/// <summary>
/// <c>GET/POST /publicRooms</c>: what is listed, the chunk fields, filters, and pagination. Tests on
/// the shared server tell their rooms apart by a unique word in the name or topic.
/// </summary>
public sealed class PublicRoomsTests
{
    private TestServer _server = null!;
    private TestSession _alice = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync();
        _alice = await _server.RegisterAsync(Accounts.UniqueName("lister"));
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<TestSession> NewUserAsync(TestServer? server = null) => (server ?? _server).RegisterAsync(Accounts.UniqueName("rooms"));

    private static JsonObject Named(string name) => new() { ["name"] = name };

    [Test]
    public async Task An_entry_carries_the_rooms_name_topic_alias_avatar_join_rule_and_counts()
    {
        var word = Accounts.UniqueName("cheese");
        var alias = Accounts.UniqueName("cheesealias");
        var roomId = await _server.CreatePublicRoomAsync(_alice, new JsonObject
        {
            ["name"] = $"All about {word}",
            ["topic"] = "Tasty tasty cheese",
            ["room_alias_name"] = alias,
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.avatar",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["url"] = "mxc://localhost/cheddar" },
            }),
        });

        var chunk = await _server.SearchRoomsAsync(_alice, word);

        Assert.That(chunk, Has.Count.EqualTo(1));
        var entry = chunk[0]!.AsObject();
        Assert.That((string?)entry["room_id"], Is.EqualTo(roomId));
        Assert.That((string?)entry["name"], Is.EqualTo($"All about {word}"));
        Assert.That((string?)entry["topic"], Is.EqualTo("Tasty tasty cheese"));
        Assert.That((string?)entry["canonical_alias"], Is.EqualTo($"#{alias}:localhost"));
        Assert.That((string?)entry["avatar_url"], Is.EqualTo("mxc://localhost/cheddar"));
        Assert.That((string?)entry["join_rule"], Is.EqualTo("public"));
        Assert.That((int?)entry["num_joined_members"], Is.EqualTo(1));
        Assert.That((bool?)entry["world_readable"], Is.False);
        Assert.That((bool?)entry["guest_can_join"], Is.False);
        Assert.That(entry.ContainsKey("room_type"), Is.False, "a plain room has no type");
    }

    [Test]
    public async Task The_search_term_matches_name_topic_and_alias_case_insensitively()
    {
        var word = Accounts.UniqueName("Marmalade");
        var byName = await _server.CreatePublicRoomAsync(_alice, Named($"{word} fans"));
        var byTopic = await _server.CreatePublicRoomAsync(_alice, new JsonObject { ["topic"] = $"we talk {word.ToLowerInvariant()}" });
        var byAlias = await _server.CreatePublicRoomAsync(_alice, new JsonObject { ["room_alias_name"] = word.ToLowerInvariant() + "alias" });
        var other = await _server.CreatePublicRoomAsync(_alice, Named("Something else entirely"));

        var found = (await _server.SearchRoomsAsync(_alice, word.ToUpperInvariant())).RoomIds();

        Assert.That(found, Is.EquivalentTo(new[] { byName, byTopic, byAlias }));
        Assert.That(found, Does.Not.Contain(other));
        Assert.That((await _server.SearchRoomsAsync(_alice, $"{word} fans")).RoomIds(), Is.EqualTo(new[] { byName }), "every word must match");
    }

    [Test]
    public async Task Room_types_select_spaces_or_plain_rooms_and_null_stands_for_no_type()
    {
        var word = Accounts.UniqueName("typed");
        var plain = await _server.CreatePublicRoomAsync(_alice, Named(word));
        var space = await _server.CreatePublicRoomAsync(_alice, new JsonObject
        {
            ["name"] = word,
            ["creation_content"] = new JsonObject { ["type"] = "m.space" },
        });

        static JsonObject Types(params string?[] types) => new() { ["room_types"] = new JsonArray([.. types.Select(t => (JsonNode?)t)]) };

        Assert.That((await _server.SearchRoomsAsync(_alice, word, Types([null]))).RoomIds(), Is.EqualTo(new[] { plain }));
        var spaces = await _server.SearchRoomsAsync(_alice, word, Types("m.space"));
        Assert.That(spaces.RoomIds(), Is.EqualTo(new[] { space }));
        Assert.That((string?)spaces[0]!["room_type"], Is.EqualTo("m.space"));
        Assert.That((await _server.SearchRoomsAsync(_alice, word, Types(null, "m.space"))).RoomIds(), Is.EquivalentTo(new[] { plain, space }));
        Assert.That(await _server.SearchRoomsAsync(_alice, word, Types("org.example.other")), Is.Empty);
        Assert.That((await _server.SearchRoomsAsync(_alice, word)).RoomIds(), Is.EquivalentTo(new[] { plain, space }), "no room_types: any type");
    }

    [Test]
    public async Task The_member_count_follows_joins_and_leaves()
    {
        var word = Accounts.UniqueName("busy");
        var roomId = await _server.CreatePublicRoomAsync(_alice, Named(word));
        var bob = await NewUserAsync();
        var carol = await NewUserAsync();

        async Task<int?> CountAsync() => (int?)(await _server.SearchRoomsAsync(_alice, word))[0]!["num_joined_members"];

        Assert.That(await CountAsync(), Is.EqualTo(1));
        await _server.JoinAsync(bob, roomId);
        await _server.JoinAsync(carol, roomId);
        Assert.That(await CountAsync(), Is.EqualTo(3));
        await _server.LeaveAsync(bob, roomId);
        Assert.That(await CountAsync(), Is.EqualTo(2));
    }

    [Test]
    public async Task Rooms_that_are_not_published_are_never_listed()
    {
        var word = Accounts.UniqueName("hidden");
        var unpublishedPublicChat = await _server.CreateRoomAsync(_alice, new JsonObject { ["preset"] = "public_chat", ["name"] = word });
        var privateChat = await _server.CreateRoomAsync(_alice, new JsonObject { ["name"] = word });
        var published = await _server.CreatePublicRoomAsync(_alice, Named(word));

        Assert.That((await _server.SearchRoomsAsync(_alice, word)).RoomIds(), Is.EqualTo(new[] { published }));
        var (getStatus, getBody) = await _server.SendAsync(HttpMethod.Get, DirectoryApi.PublicRoomsPath);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(getBody!["chunk"]!.RoomIds(), Does.Not.Contain(unpublishedPublicChat).And.Not.Contain(privateChat));

        var (status, _) = await _server.SetVisibilityRawAsync(_alice, published, new JsonObject { ["visibility"] = "private" });
        Assert.That(status, Is.EqualTo(200));
        Assert.That(await _server.SearchRoomsAsync(_alice, word), Is.Empty, "unpublishing takes the room out");
    }

    [Test]
    public async Task A_published_room_is_listed_only_while_it_can_be_joined_or_read_by_anyone()
    {
        var word = Accounts.UniqueName("gated");
        var roomId = await _server.CreateRoomAsync(_alice, new JsonObject { ["visibility"] = "public", ["preset"] = "private_chat", ["name"] = word });
        Assert.That(await _server.SearchRoomsAsync(_alice, word), Is.Empty, "an invite-only room stays out of the listing");

        await _server.PutStateAsync(_alice, roomId, "m.room.history_visibility", "", new JsonObject { ["history_visibility"] = "world_readable" });
        var chunk = await _server.SearchRoomsAsync(_alice, word);
        Assert.That(chunk.RoomIds(), Is.EqualTo(new[] { roomId }));
        Assert.That((bool?)chunk[0]!["world_readable"], Is.True);
        Assert.That((string?)chunk[0]!["join_rule"], Is.EqualTo("invite"));
        Assert.That((bool?)chunk[0]!["guest_can_join"], Is.True, "private_chat lets guests join");
    }

    [Test]
    public async Task Renaming_a_room_shows_at_once()
    {
        var before = Accounts.UniqueName("oldname");
        var after = Accounts.UniqueName("newname");
        var roomId = await _server.CreatePublicRoomAsync(_alice, Named(before));
        Assert.That((await _server.SearchRoomsAsync(_alice, before)).RoomIds(), Is.EqualTo(new[] { roomId }));

        await _server.PutStateAsync(_alice, roomId, "m.room.name", "", new JsonObject { ["name"] = after });

        Assert.That(await _server.SearchRoomsAsync(_alice, before), Is.Empty);
        var chunk = await _server.SearchRoomsAsync(_alice, after);
        Assert.That((string?)chunk[0]!["name"], Is.EqualTo(after));
    }

    [Test]
    public async Task Get_needs_no_access_token_but_post_does()
    {
        var (getStatus, getBody) = await _server.SendAsync(HttpMethod.Get, DirectoryApi.PublicRoomsPath);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(getBody!["chunk"], Is.InstanceOf<JsonArray>());
        Assert.That((int?)getBody["total_room_count_estimate"], Is.GreaterThanOrEqualTo(0));

        var (postStatus, postBody) = await _server.SendAsync(HttpMethod.Post, DirectoryApi.PublicRoomsPath, new JsonObject());
        Assert.That((postStatus, postBody.ErrCode()), Is.EqualTo((401, "M_MISSING_TOKEN")));
    }

    [Test]
    public async Task The_server_parameter_takes_this_server_and_refuses_what_is_not_a_server_name()
    {
        var (own, _) = await _server.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?server=localhost");
        Assert.That(own, Is.EqualTo(200));

        var (invalid, invalidBody) = await _server.SendAsync(HttpMethod.Post, $"{DirectoryApi.PublicRoomsPath}?server=not%20a%20server", new JsonObject(), _alice.AccessToken);
        Assert.That((invalid, invalidBody.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [Test]
    public async Task Third_party_networks_list_nothing_and_cannot_be_combined_with_all_networks()
    {
        var word = Accounts.UniqueName("network");
        var roomId = await _server.CreatePublicRoomAsync(_alice, Named(word));
        var filter = new JsonObject { ["generic_search_term"] = word };

        var all = await _server.QueryPublicRoomsAsync(_alice, new JsonObject { ["filter"] = filter.DeepClone(), ["include_all_networks"] = true });
        Assert.That(all["chunk"]!.RoomIds(), Is.EqualTo(new[] { roomId }));
        var irc = await _server.QueryPublicRoomsAsync(_alice, new JsonObject { ["filter"] = filter.DeepClone(), ["third_party_instance_id"] = "irc" });
        Assert.That(irc["chunk"]!.AsArray(), Is.Empty);

        var (status, body) = await _server.SendAsync(HttpMethod.Post, DirectoryApi.PublicRoomsPath,
            new JsonObject { ["include_all_networks"] = true, ["third_party_instance_id"] = "irc" }, _alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [Test]
    public async Task Malformed_limits_filters_and_tokens_are_rejected()
    {
        var (getLimit, getLimitBody) = await _server.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?limit=ten");
        Assert.That((getLimit, getLimitBody.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        var (negative, negativeBody) = await _server.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?limit=-1");
        Assert.That((negative, negativeBody.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        var (since, sinceBody) = await _server.SendAsync(HttpMethod.Get, $"{DirectoryApi.PublicRoomsPath}?since=garbage");
        Assert.That((since, sinceBody.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));

        foreach (var body in new[]
        {
            new JsonObject { ["limit"] = "10" },
            new JsonObject { ["filter"] = "cheese" },
            new JsonObject { ["filter"] = new JsonObject { ["room_types"] = new JsonArray(1) } },
            new JsonObject { ["filter"] = new JsonObject { ["generic_search_term"] = 5 } },
        })
        {
            var (status, error) = await _server.SendAsync(HttpMethod.Post, DirectoryApi.PublicRoomsPath, body, _alice.AccessToken);
            Assert.That((status, error.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")), body.ToJsonString());
        }
    }
}
