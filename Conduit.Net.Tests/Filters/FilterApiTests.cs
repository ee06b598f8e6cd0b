using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Filters;

/// <summary>
/// <c>POST /user/{userId}/filter</c> and <c>GET /user/{userId}/filter/{filterId}</c> over HTTP:
/// round trips, ownership, unknown ids and definitions of the wrong shape.
/// </summary>
public sealed class FilterApiTests : ServerFixture
{
    private const string SpecExample = """
        {
          "room": {
            "state": {"types": ["m.room.*"], "not_rooms": ["!726s6s6q:example.com"]},
            "timeline": {"limit": 10, "types": ["m.room.message"], "not_rooms": ["!726s6s6q:example.com"], "not_senders": ["@spam:example.com"]},
            "ephemeral": {"types": ["m.receipt", "m.typing"], "not_rooms": ["!726s6s6q:example.com"], "not_senders": ["@spam:example.com"]}
          },
          "presence": {"types": ["m.presence"], "not_senders": ["@alice:example.com"]},
          "event_format": "client",
          "event_fields": ["type", "content", "sender"]
        }
        """;

    private static string FilterPath(string userId) => $"/_matrix/client/v3/user/{Uri.EscapeDataString(userId)}/filter";

    private Task<TestSession> NewUserAsync() => Server.RegisterAsync(Accounts.UniqueName("filter"));

    private Task<(int Status, JsonNode? Body)> UploadRawAsync(TestSession session, string raw, string? userId = null) =>
        Server.SendRawAsync(HttpMethod.Post, FilterPath(userId ?? session.UserId), raw, session.AccessToken);

    [Test]
    public async Task An_uploaded_filter_reads_back_as_it_was_uploaded()
    {
        var session = await NewUserAsync();
        var (status, body) = await UploadRawAsync(session, SpecExample);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var filterId = (string?)body?["filter_id"];
        Assert.That(filterId, Is.Not.Null.And.Not.Empty);
        Assert.That(filterId, Does.Not.StartWith("{"));

        var (getStatus, definition) = await Server.SendAsync(HttpMethod.Get, $"{FilterPath(session.UserId)}/{filterId}", accessToken: session.AccessToken);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(JsonNode.DeepEquals(definition, JsonNode.Parse(SpecExample)), Is.True, definition?.ToJsonString());
    }

    [Test]
    public async Task Each_upload_gets_its_own_id_and_an_empty_filter_is_valid()
    {
        var session = await NewUserAsync();
        var (_, first) = await UploadRawAsync(session, "{}");
        var (_, second) = await UploadRawAsync(session, """{"room": {"timeline": {"limit": 5}}}""");
        Assert.That((string?)first?["filter_id"], Is.Not.EqualTo((string?)second?["filter_id"]));

        var (status, definition) = await Server.SendAsync(HttpMethod.Get, $"{FilterPath(session.UserId)}/{first?["filter_id"]}", accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(definition?.ToJsonString(), Is.EqualTo("{}"));
    }

    [Test]
    public async Task Filters_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var session = await server.RegisterAsync(Accounts.UniqueName("filter"));
        var (_, created) = await server.SendRawAsync(HttpMethod.Post, FilterPath(session.UserId), """{"room": {"include_leave": true}}""", session.AccessToken);
        await server.RestartAsync();

        var (status, definition) = await server.SendAsync(HttpMethod.Get, $"{FilterPath(session.UserId)}/{created?["filter_id"]}", accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((bool?)definition?["room"]?["include_leave"], Is.True);
    }

    [Test]
    public async Task Uploading_a_filter_for_another_user_is_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var (status, body) = await UploadRawAsync(alice, "{}", bob.UserId);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Reading_another_users_filter_is_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var (_, created) = await UploadRawAsync(bob, "{}");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{FilterPath(bob.UserId)}/{created?["filter_id"]}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [TestCase("999999999")]
    [TestCase("not-a-filter")]
    [TestCase("123456789012345678901234567890")]
    public async Task An_unknown_filter_is_404_M_NOT_FOUND(string filterId)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{FilterPath(session.UserId)}/{filterId}", accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task A_filter_id_of_one_user_is_unknown_to_another()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var (_, created) = await UploadRawAsync(bob, "{}");

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{FilterPath(alice.UserId)}/{created?["filter_id"]}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task Filters_need_an_access_token()
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Post, FilterPath(session.UserId), "{}");
        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    [TestCase("""{"event_fields": "type"}""")]
    [TestCase("""{"event_fields": [1]}""")]
    [TestCase("""{"event_format": "xml"}""")]
    [TestCase("""{"event_format": 1}""")]
    [TestCase("""{"presence": []}""")]
    [TestCase("""{"presence": {"limit": "10"}}""")]
    [TestCase("""{"presence": {"limit": 1.5}}""")]
    [TestCase("""{"presence": {"limit": -1}}""")]
    [TestCase("""{"account_data": {"types": "m.direct"}}""")]
    [TestCase("""{"account_data": {"not_types": [null]}}""")]
    [TestCase("""{"room": "all"}""")]
    [TestCase("""{"room": {"rooms": "!a:b"}}""")]
    [TestCase("""{"room": {"not_rooms": ["@a:b"]}}""")]
    [TestCase("""{"room": {"include_leave": "yes"}}""")]
    [TestCase("""{"room": {"timeline": {"limit": "ten"}}}""")]
    [TestCase("""{"room": {"timeline": {"senders": ["alice"]}}}""")]
    [TestCase("""{"room": {"state": {"lazy_load_members": 1}}}""")]
    [TestCase("""{"room": {"state": {"include_redundant_members": "true"}}}""")]
    [TestCase("""{"room": {"ephemeral": {"contains_url": "no"}}}""")]
    [TestCase("""{"room": {"account_data": {"rooms": [5]}}}""")]
    [TestCase("""{"room": {"timeline": {"unread_thread_notifications": []}}}""")]
    [TestCase("""[]""")]
    public async Task A_definition_of_the_wrong_shape_is_400_M_BAD_JSON(string raw)
    {
        var session = await NewUserAsync();
        var (status, body) = await UploadRawAsync(session, raw);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task A_body_that_is_not_json_is_400_M_NOT_JSON()
    {
        var session = await NewUserAsync();
        var (status, body) = await UploadRawAsync(session, "{\"room\": ");
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_JSON"));
    }

    [TestCase("""{"room": {"timeline": {"limit": 0}}}""")]
    [TestCase("""{"room": {"timeline": {"limit": 20.0, "types": null}}}""")]
    [TestCase("""{"org.example.future_field": {"anything": true}, "room": {"timeline": {"org.example.other": 1}}}""")]
    [TestCase("""{"room": {"state": {"lazy_load_members": true, "include_redundant_members": false}, "timeline": {"unread_thread_notifications": true, "contains_url": true}}}""")]
    public async Task Zero_limits_nulls_and_unknown_fields_are_accepted(string raw)
    {
        var session = await NewUserAsync();
        var (status, body) = await UploadRawAsync(session, raw);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }
}
