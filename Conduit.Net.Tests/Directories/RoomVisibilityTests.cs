using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Directories;

/// <summary><c>GET/PUT /directory/list/room/{roomId}</c>: a room's visibility in the published room directory.</summary>
public sealed class RoomVisibilityTests
{
    private TestServer _server = null!;
    private TestSession _admin = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync();
        // The first account of a server is its admin.
        _admin = await _server.RegisterAsync(Accounts.UniqueName("admin"));
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<TestSession> NewUserAsync() => _server.RegisterAsync(Accounts.UniqueName("vis"));

    private static JsonObject Visibility(string value) => new() { ["visibility"] = value };

    [Test]
    public async Task A_room_is_private_unless_created_with_public_visibility()
    {
        var alice = await NewUserAsync();
        var privateRoom = await _server.CreateRoomAsync(alice);
        var publicRoom = await _server.CreateRoomAsync(alice, new JsonObject { ["visibility"] = "public" });

        Assert.That(await _server.GetVisibilityAsync(privateRoom), Is.EqualTo("private"));
        Assert.That(await _server.GetVisibilityAsync(publicRoom), Is.EqualTo("public"));
    }

    [Test]
    public async Task Reading_the_visibility_needs_no_access_token_and_an_unknown_room_is_404_M_NOT_FOUND()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, DirectoryApi.VisibilityPath("!nosuchroom:localhost"));
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));

        var alice = await NewUserAsync();
        var (setStatus, setBody) = await _server.SetVisibilityRawAsync(alice, "!nosuchroom:localhost", Visibility("public"));
        Assert.That((setStatus, setBody.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task The_room_creator_publishes_and_unpublishes_the_room()
    {
        var alice = await NewUserAsync();
        var roomId = await _server.CreateRoomAsync(alice);

        var (status, body) = await _server.SetVisibilityRawAsync(alice, roomId, Visibility("public"));
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!.AsObject(), Is.Empty);
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("public"));

        (status, body) = await _server.SetVisibilityRawAsync(alice, roomId, Visibility("private"));
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("private"));
    }

    [Test]
    public async Task Without_a_visibility_the_body_publishes_the_room_as_the_spec_defaults_to_public()
    {
        var alice = await NewUserAsync();
        var roomId = await _server.CreateRoomAsync(alice);

        var (status, _) = await _server.SetVisibilityRawAsync(alice, roomId, []);

        Assert.That(status, Is.EqualTo(200));
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("public"));
    }

    [Test]
    public async Task A_member_without_the_power_to_set_the_canonical_alias_is_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);

        var (status, body) = await _server.SetVisibilityRawAsync(bob, roomId, Visibility("private"));

        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("public"));
    }

    [Test]
    public async Task A_member_given_the_power_may_change_it()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        var levels = (await _server.GetStateAsync(alice, roomId, "m.room.power_levels")).AsObject();
        levels["users"]![bob.UserId] = 50;
        await _server.PutStateAsync(alice, roomId, "m.room.power_levels", "", levels);

        var (status, body) = await _server.SetVisibilityRawAsync(bob, roomId, Visibility("private"));

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("private"));
    }

    [Test]
    public async Task A_user_outside_the_room_is_403_but_the_server_admin_may_change_any_room()
    {
        var alice = await NewUserAsync();
        var stranger = await NewUserAsync();
        var roomId = await _server.CreateRoomAsync(alice);

        var (strangerStatus, strangerBody) = await _server.SetVisibilityRawAsync(stranger, roomId, Visibility("public"));
        Assert.That((strangerStatus, strangerBody.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("private"));

        var (adminStatus, adminBody) = await _server.SetVisibilityRawAsync(_admin, roomId, Visibility("public"));
        Assert.That(adminStatus, Is.EqualTo(200), adminBody?.ToJsonString());
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("public"));
    }

    [Test]
    public async Task A_visibility_other_than_public_or_private_is_400_M_INVALID_PARAM_and_a_non_string_M_BAD_JSON()
    {
        var alice = await NewUserAsync();
        var roomId = await _server.CreateRoomAsync(alice);

        var (status, body) = await _server.SetVisibilityRawAsync(alice, roomId, Visibility("everyone"));
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await _server.SetVisibilityRawAsync(alice, roomId, new JsonObject { ["visibility"] = true });
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        Assert.That(await _server.GetVisibilityAsync(roomId), Is.EqualTo("private"));
    }

    [Test]
    public async Task Changing_the_visibility_needs_an_access_token()
    {
        var alice = await NewUserAsync();
        var roomId = await _server.CreateRoomAsync(alice);

        var (status, body) = await _server.SetVisibilityRawAsync(null, roomId, Visibility("public"));

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_MISSING_TOKEN")));
    }
}
