using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.AccountData;

/// <summary>
/// Room tags over HTTP: <c>GET /user/{userId}/rooms/{roomId}/tags</c> and
/// <c>PUT/DELETE .../tags/{tag}</c>, kept as the room's <c>m.tag</c> account data.
/// </summary>
public sealed class TagTests : ServerFixture
{
    private const string RoomId = "!tagged:localhost";

    private static string TagsPath(string userId, string roomId = RoomId) =>
        $"/_matrix/client/v3/user/{Uri.EscapeDataString(userId)}/rooms/{Uri.EscapeDataString(roomId)}/tags";

    private static string TagPath(string userId, string tag, string roomId = RoomId) => $"{TagsPath(userId, roomId)}/{Uri.EscapeDataString(tag)}";

    private Task<TestSession> NewUserAsync() => Server.RegisterAsync(Accounts.UniqueName("tags"));

    [Test]
    public async Task A_room_without_tags_lists_an_empty_object()
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendAsync(HttpMethod.Get, TagsPath(session.UserId), accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo("""{"tags":{}}"""));
    }

    [Test]
    public async Task Tags_round_trip_and_delete_removes_only_the_named_one()
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendAsync(HttpMethod.Put, TagPath(session.UserId, "m.favourite"), new JsonObject { ["order"] = 0.25 }, session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));
        await Server.SendAsync(HttpMethod.Put, TagPath(session.UserId, "u.Work"), new JsonObject(), session.AccessToken);
        await Server.SendAsync(HttpMethod.Put, TagPath(session.UserId, "u.Work"), new JsonObject { ["order"] = 1 }, session.AccessToken);

        var (_, tags) = await Server.SendAsync(HttpMethod.Get, TagsPath(session.UserId), accessToken: session.AccessToken);
        Assert.That(JsonNode.DeepEquals(tags, JsonNode.Parse("""{"tags": {"m.favourite": {"order": 0.25}, "u.Work": {"order": 1}}}""")), Is.True, tags?.ToJsonString());

        var (deleteStatus, _) = await Server.SendAsync(HttpMethod.Delete, TagPath(session.UserId, "m.favourite"), accessToken: session.AccessToken);
        Assert.That(deleteStatus, Is.EqualTo(200));
        var (absentStatus, _) = await Server.SendAsync(HttpMethod.Delete, TagPath(session.UserId, "m.lowpriority"), accessToken: session.AccessToken);
        Assert.That(absentStatus, Is.EqualTo(200));

        (_, tags) = await Server.SendAsync(HttpMethod.Get, TagsPath(session.UserId), accessToken: session.AccessToken);
        Assert.That(tags?.ToJsonString(), Is.EqualTo("""{"tags":{"u.Work":{"order":1}}}"""));
    }

    [Test]
    public async Task Tags_are_the_m_tag_room_account_data_and_other_rooms_have_their_own()
    {
        var session = await NewUserAsync();
        await Server.SendAsync(HttpMethod.Put, TagPath(session.UserId, "m.lowpriority"), new JsonObject { ["order"] = 0.5 }, session.AccessToken);

        var (status, content) = await Server.SendAsync(HttpMethod.Get,
            $"/_matrix/client/v3/user/{Uri.EscapeDataString(session.UserId)}/rooms/{Uri.EscapeDataString(RoomId)}/account_data/m.tag",
            accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(content?.ToJsonString(), Is.EqualTo("""{"tags":{"m.lowpriority":{"order":0.5}}}"""));

        var (_, other) = await Server.SendAsync(HttpMethod.Get, TagsPath(session.UserId, "!other:localhost"), accessToken: session.AccessToken);
        Assert.That(other?.ToJsonString(), Is.EqualTo("""{"tags":{}}"""));
    }

    [TestCase("""{"order": "0.5"}""")]
    [TestCase("""{"order": null}""")]
    [TestCase("""{"order": [0.5]}""")]
    [TestCase("""[0.5]""")]
    public async Task A_tag_body_of_the_wrong_shape_is_400_M_BAD_JSON(string raw)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, TagPath(session.UserId, "u.x"), raw, session.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task A_tag_name_longer_than_255_bytes_is_400_M_INVALID_PARAM()
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendAsync(HttpMethod.Put, TagPath(session.UserId, "u." + new string('é', 127)), new JsonObject(), session.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task Another_users_tags_are_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var requests = new (HttpMethod Method, string Path, JsonNode? Body)[]
        {
            (HttpMethod.Get, TagsPath(bob.UserId), null),
            (HttpMethod.Put, TagPath(bob.UserId, "u.x"), new JsonObject()),
            (HttpMethod.Delete, TagPath(bob.UserId, "u.x"), null),
        };
        foreach (var (method, path, requestBody) in requests)
        {
            var (status, body) = await Server.SendAsync(method, path, requestBody, alice.AccessToken);
            Assert.That(status, Is.EqualTo(403), $"{method} {path}");
            Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        }
    }
}
