using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary>Local room aliases: <c>PUT/GET/DELETE /directory/room/{roomAlias}</c> and <c>/rooms/{roomId}/aliases</c>.</summary>
public sealed class AliasTests : ServerFixture
{
    private static string AliasPath(string alias) => $"{RoomApi.Client}/directory/room/{RoomApi.Escape(alias)}";

    private static string NewAlias() => $"#{Accounts.UniqueName("alias")}:localhost";

    private Task<(int Status, JsonNode? Body)> PutAliasAsync(TestSession who, string alias, string roomId) =>
        Server.SendAsync(HttpMethod.Put, AliasPath(alias), new JsonObject { ["room_id"] = roomId }, who.AccessToken);

    [Test]
    public async Task A_member_maps_an_alias_that_anyone_resolves_without_a_token()
    {
        var alice = await NewUserAsync("alice");
        var roomId = await Server.CreateRoomAsync(alice);
        var alias = NewAlias();
        var (status, body) = await PutAliasAsync(alice, alias, roomId);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!.AsObject(), Is.Empty);

        (status, body) = await Server.SendAsync(HttpMethod.Get, AliasPath(alias));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["room_id"], Is.EqualTo(roomId));
        Assert.That(body["servers"]!.AsArray().Select(s => (string?)s), Does.Contain("localhost"));

        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/aliases", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["aliases"]!.AsArray().Select(a => (string?)a), Is.EqualTo(new[] { alias }));
    }

    [Test]
    public async Task An_alias_that_exists_is_409_and_an_unknown_one_404()
    {
        var alice = await NewUserAsync("alice");
        var roomId = await Server.CreateRoomAsync(alice);
        var alias = NewAlias();
        await PutAliasAsync(alice, alias, roomId);
        var (status, body) = await PutAliasAsync(alice, alias, roomId);
        Assert.That(status, Is.EqualTo(409));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));

        (status, body) = await Server.SendAsync(HttpMethod.Get, AliasPath(NewAlias()));
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [TestCase("nohash:localhost")]
    [TestCase("#noserver")]
    [TestCase("#remote:elsewhere.example")]
    public async Task Invalid_or_remote_aliases_cannot_be_created_400_M_INVALID_PARAM(string alias)
    {
        var alice = await NewUserAsync("alice");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await PutAliasAsync(alice, alias, roomId);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task Non_members_cannot_create_aliases_or_list_them()
    {
        var alice = await NewUserAsync("alice");
        var stranger = await NewUserAsync("stranger");
        var roomId = await Server.CreateRoomAsync(alice);
        var (status, body) = await PutAliasAsync(stranger, NewAlias(), roomId);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        (status, body) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/aliases", accessToken: stranger.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task The_creator_or_a_room_moderator_may_delete_an_alias_others_may_not()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var bobsAlias = NewAlias();
        var alicesAlias = NewAlias();
        Assert.That((await PutAliasAsync(bob, bobsAlias, roomId)).Status, Is.EqualTo(200));
        Assert.That((await PutAliasAsync(alice, alicesAlias, roomId)).Status, Is.EqualTo(200));

        var (status, body) = await Server.SendAsync(HttpMethod.Delete, AliasPath(alicesAlias), accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        (status, _) = await Server.SendAsync(HttpMethod.Delete, AliasPath(bobsAlias), accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), "alice may change the canonical alias, so she moderates aliases");
        (status, _) = await Server.SendAsync(HttpMethod.Delete, AliasPath(alicesAlias), accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        (status, body) = await Server.SendAsync(HttpMethod.Delete, AliasPath(alicesAlias), accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));

        (status, _) = await Server.SendAsync(HttpMethod.Get, AliasPath(bobsAlias));
        Assert.That(status, Is.EqualTo(404));
        var (_, list) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/aliases", accessToken: alice.AccessToken);
        Assert.That(list!["aliases"]!.AsArray(), Is.Empty);
    }

    [Test]
    public async Task The_alias_from_createRoom_resolves_to_the_new_room()
    {
        var alice = await NewUserAsync("alice");
        var name = Accounts.UniqueName("created");
        var roomId = await Server.CreateRoomAsync(alice, new JsonObject { ["room_alias_name"] = name });
        var (status, body) = await Server.SendAsync(HttpMethod.Get, AliasPath($"#{name}:localhost"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["room_id"], Is.EqualTo(roomId));
    }
}
