using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The room endpoints a resident server answers, called by a second real server over signed requests:
/// make_join (version negotiation, bans, users of other servers), state and state_ids, event, event_auth
/// and query/directory, refused to a server with no member in the room unless its history is world-readable.
/// </summary>
public sealed class FederationRoomTests : FederatedFixture
{
    private const string Federation = "/_matrix/federation/v1";

    private TestSession _alice = null!;

    [OneTimeSetUp]
    public async Task RegisterAlice() => _alice = await NewUserAsync(A, "alice");

    private string BobOnB => $"@bob:{B.Name()}";

    private Task<string> PublicRoomAsync(JsonObject? extra = null) => PublicRoomAsync(A, _alice, extra);

    private Task<JsonObject> GetFromAAsync(string path) => B.FederationClient().GetAsync(A.Name(), path, CancellationToken.None);

    private async Task<FederationException> RefusedAsync(string path) =>
        (await AssertThrowsAsync(() => GetFromAAsync(path)))!;

    private static async Task<FederationException?> AssertThrowsAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (FederationException e)
        {
            return e;
        }
        Assert.Fail("The request succeeded.");
        return null;
    }

    private static string MakeJoinPath(string roomId, string userId, params string[] versions) =>
        $"{Federation}/make_join/{RoomApi.Escape(roomId)}/{RoomApi.Escape(userId)}" + (versions.Length == 0 ? "" : "?" + string.Join("&", versions.Select(v => "ver=" + v)));

    [Test]
    public async Task Make_join_answers_a_join_template_of_the_rooms_version_built_on_its_latest_event()
    {
        var roomId = await PublicRoomAsync();
        var answer = await GetFromAAsync(MakeJoinPath(roomId, BobOnB, "11", "12"));

        Assert.That((string?)answer["room_version"], Is.EqualTo("12"));
        var template = answer["event"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That((string?)template["type"], Is.EqualTo("m.room.member"));
            Assert.That((string?)template["state_key"], Is.EqualTo(BobOnB));
            Assert.That((string?)template["sender"], Is.EqualTo(BobOnB));
            Assert.That((string?)template["room_id"], Is.EqualTo(roomId));
            Assert.That((string?)template["content"]?["membership"], Is.EqualTo("join"));
            Assert.That(template["prev_events"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(template["auth_events"]!.AsArray(), Is.Not.Empty);
            Assert.That(template.ContainsKey("signatures"), Is.False);
            Assert.That(template.ContainsKey("hashes"), Is.False);
        });
    }

    [Test]
    public async Task Make_join_without_the_rooms_version_is_400_M_INCOMPATIBLE_ROOM_VERSION()
    {
        var roomId = await PublicRoomAsync();

        var withOthers = await RefusedAsync(MakeJoinPath(roomId, BobOnB, "10", "11"));
        var withNone = await RefusedAsync(MakeJoinPath(roomId, BobOnB));

        foreach (var refused in new[] { withOthers, withNone })
        {
            Assert.That(refused.Status, Is.EqualTo(400));
            Assert.That(refused.Body.ErrCode(), Is.EqualTo("M_INCOMPATIBLE_ROOM_VERSION"));
            Assert.That((string?)refused.Body?["room_version"], Is.EqualTo("12"));
        }
    }

    [Test]
    public async Task Make_join_for_a_banned_user_is_403_M_FORBIDDEN()
    {
        var roomId = await PublicRoomAsync();
        var (status, _) = await A.PostRawAsync(_alice, $"{RoomApi.RoomPath(roomId)}/ban", new JsonObject { ["user_id"] = BobOnB });
        Assert.That(status, Is.EqualTo(200));

        var refused = await RefusedAsync(MakeJoinPath(roomId, BobOnB, "12"));

        Assert.That(refused.Status, Is.EqualTo(403));
        Assert.That(refused.Body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Make_join_to_an_invite_only_room_without_an_invite_is_403_M_FORBIDDEN()
    {
        var roomId = await A.CreateRoomAsync(_alice, new JsonObject { ["preset"] = "private_chat" });

        var refused = await RefusedAsync(MakeJoinPath(roomId, BobOnB, "12"));

        Assert.That(refused.Status, Is.EqualTo(403));
        Assert.That(refused.Body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Make_join_for_a_user_of_another_server_is_403_M_FORBIDDEN()
    {
        var roomId = await PublicRoomAsync();

        var refused = await RefusedAsync(MakeJoinPath(roomId, "@mallory:elsewhere.test", "12"));

        Assert.That(refused.Status, Is.EqualTo(403));
        Assert.That(refused.Body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task A_server_with_no_member_in_the_room_gets_403_from_state_state_ids_event_and_event_auth()
    {
        var roomId = await PublicRoomAsync();
        var eventId = await A.SendTextAsync(_alice, roomId, "not for B");
        var room = RoomApi.Escape(roomId);
        var ev = RoomApi.Escape(eventId);

        foreach (var path in new[]
        {
            $"{Federation}/state/{room}?event_id={ev}",
            $"{Federation}/state_ids/{room}?event_id={ev}",
            $"{Federation}/event/{ev}",
            $"{Federation}/event_auth/{room}/{ev}",
        })
        {
            var refused = await RefusedAsync(path);
            Assert.That(refused.Status, Is.EqualTo(403), path);
            Assert.That(refused.Body.ErrCode(), Is.EqualTo("M_FORBIDDEN"), path);
        }
    }

    [Test]
    public async Task A_world_readable_room_serves_its_state_before_an_event_with_the_auth_chain()
    {
        var roomId = await PublicRoomAsync(new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = "world_readable" },
            }),
        });
        var topicId = await A.PutStateAsync(_alice, roomId, "m.room.topic", "", new JsonObject { ["topic"] = "first" });
        var messageId = await A.SendTextAsync(_alice, roomId, "hello");
        var room = RoomApi.Escape(roomId);

        var ids = await GetFromAAsync($"{Federation}/state_ids/{room}?event_id={RoomApi.Escape(topicId)}");
        var full = await GetFromAAsync($"{Federation}/state/{room}?event_id={RoomApi.Escape(messageId)}");

        var stateIds = ids["pdu_ids"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.That(stateIds, Does.Not.Contain(topicId), "the state before the topic event");
        Assert.That(stateIds, Has.Count.GreaterThanOrEqualTo(5));
        Assert.That(ids["auth_chain_ids"]!.AsArray(), Is.Not.Empty);

        var pdus = full["pdus"]!.AsArray().Select(n => n!.AsObject()).ToList();
        Assert.That(pdus.Any(p => (string?)p["type"] == "m.room.topic" && (string?)p["content"]?["topic"] == "first"), Is.True);
        Assert.That(pdus.All(p => p["signatures"]?[A.Name()] is JsonObject && !p.ContainsKey("unsigned")), Is.True);
        var chainTypes = full["auth_chain"]!.AsArray().Select(n => (string?)n!["type"]).ToList();
        Assert.That(chainTypes, Does.Contain("m.room.power_levels").And.Contain("m.room.member"));
    }

    [Test]
    public async Task Event_and_event_auth_serve_an_event_of_a_world_readable_room()
    {
        var roomId = await PublicRoomAsync(new JsonObject
        {
            ["initial_state"] = new JsonArray(new JsonObject
            {
                ["type"] = "m.room.history_visibility",
                ["state_key"] = "",
                ["content"] = new JsonObject { ["history_visibility"] = "world_readable" },
            }),
        });
        var messageId = await A.SendTextAsync(_alice, roomId, "readable");

        var single = await GetFromAAsync($"{Federation}/event/{RoomApi.Escape(messageId)}");
        var auth = await GetFromAAsync($"{Federation}/event_auth/{RoomApi.Escape(roomId)}/{RoomApi.Escape(messageId)}");

        Assert.That((string?)single["origin"], Is.EqualTo(A.Name()));
        Assert.That((string?)single["pdus"]?[0]?["content"]?["body"], Is.EqualTo("readable"));
        var authTypes = auth["auth_chain"]!.AsArray().Select(n => (string?)n!["type"]).ToList();
        Assert.That(authTypes, Does.Contain("m.room.member").And.Contain("m.room.power_levels"));
        Assert.That(authTypes, Does.Not.Contain("m.room.message"));
    }

    [Test]
    public async Task Query_directory_resolves_a_local_alias_to_the_room_and_its_servers()
    {
        var localpart = Accounts.UniqueName("fedroom");
        var roomId = await PublicRoomAsync(new JsonObject { ["room_alias_name"] = localpart });

        var answer = await GetFromAAsync($"{Federation}/query/directory?room_alias={RoomApi.Escape($"#{localpart}:{A.Name()}")}");
        var missing = await RefusedAsync($"{Federation}/query/directory?room_alias={RoomApi.Escape($"#nothing-here:{A.Name()}")}");

        Assert.That((string?)answer["room_id"], Is.EqualTo(roomId));
        Assert.That(answer["servers"]!.AsArray().Select(n => (string?)n), Is.EqualTo(new[] { A.Name() }));
        Assert.That(missing.Status, Is.EqualTo(404));
        Assert.That(missing.Body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }
}
