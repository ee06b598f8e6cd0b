using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary>
/// Profiles over HTTP: <c>GET /profile/{userId}</c>, <c>GET/PUT/DELETE /profile/{userId}/{keyName}</c>
/// for <c>displayname</c>, <c>avatar_url</c>, <c>m.tz</c> and custom fields (spec v1.16).
/// </summary>
public sealed class ProfileTests : ServerFixture
{
    private static string ProfilePath(string userId) => $"/_matrix/client/v3/profile/{Uri.EscapeDataString(userId)}";

    private static string FieldPath(string userId, string key) => $"{ProfilePath(userId)}/{Uri.EscapeDataString(key)}";

    private Task<(int Status, JsonNode? Body)> PutAsync(TestSession session, string key, JsonNode? value, string? userId = null) =>
        Server.SendAsync(HttpMethod.Put, FieldPath(userId ?? session.UserId, key), new JsonObject { [key] = value }, session.AccessToken);

    private Task<(int Status, JsonNode? Body)> GetAsync(string userId, string? key = null) =>
        Server.SendAsync(HttpMethod.Get, key is null ? ProfilePath(userId) : FieldPath(userId, key));

    private async Task<TestSession> NewUserAsync() => await Server.RegisterAsync(Accounts.UniqueName("profile"));

    [Test]
    public async Task A_new_account_has_its_localpart_as_display_name()
    {
        var name = Accounts.UniqueName("fresh");
        var session = await Server.RegisterAsync(name);

        var (status, body) = await GetAsync(session.UserId);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo(new JsonObject { ["displayname"] = name }.ToJsonString()));

        (status, body) = await GetAsync(session.UserId, "displayname");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["displayname"], Is.EqualTo(name));
    }

    [Test]
    public async Task A_display_name_one_sets_is_what_everyone_reads_without_a_token()
    {
        var session = await NewUserAsync();
        var (status, body) = await PutAsync(session, "displayname", "Zoë 🐱 Ω");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));

        (status, body) = await GetAsync(session.UserId, "displayname");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["displayname"], Is.EqualTo("Zoë 🐱 Ω"));
        Assert.That(body?.AsObject().Count, Is.EqualTo(1));
    }

    [Test]
    public async Task An_mxc_avatar_url_is_stored_next_to_the_display_name()
    {
        var session = await NewUserAsync();
        var (status, _) = await PutAsync(session, "avatar_url", "mxc://example.org/SEsfnsuifSDFSSEF");
        Assert.That(status, Is.EqualTo(200));

        var (_, field) = await GetAsync(session.UserId, "avatar_url");
        Assert.That((string?)field?["avatar_url"], Is.EqualTo("mxc://example.org/SEsfnsuifSDFSSEF"));
        var (_, profile) = await GetAsync(session.UserId);
        Assert.That((string?)profile?["avatar_url"], Is.EqualTo("mxc://example.org/SEsfnsuifSDFSSEF"));
        Assert.That((string?)profile?["displayname"], Is.Not.Null);
    }

    [TestCase("https://example.org/avatar.png")]
    [TestCase("mxc://example.org")]
    [TestCase("mxc://example.org/")]
    [TestCase("mxc://example.org/../../etc/passwd")]
    [TestCase("mxc://bad server/abc")]
    [TestCase("MXC://example.org/abc")]
    public async Task An_avatar_url_that_is_not_an_mxc_uri_is_400_M_INVALID_PARAM(string url)
    {
        var session = await NewUserAsync();
        var (status, body) = await PutAsync(session, "avatar_url", url);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
        var (getStatus, _) = await GetAsync(session.UserId, "avatar_url");
        Assert.That(getStatus, Is.EqualTo(404));
    }

    [TestCase("displayname", "")]
    [TestCase("displayname", null)]
    [TestCase("avatar_url", "")]
    [TestCase("avatar_url", null)]
    public async Task An_empty_or_null_display_name_or_avatar_url_clears_the_field(string key, string? cleared)
    {
        var session = await NewUserAsync();
        await PutAsync(session, "avatar_url", "mxc://example.org/abc");
        await PutAsync(session, "displayname", "Someone");

        var (status, _) = await PutAsync(session, key, cleared);
        Assert.That(status, Is.EqualTo(200));

        var (getStatus, getBody) = await GetAsync(session.UserId, key);
        Assert.That(getStatus, Is.EqualTo(404));
        Assert.That(getBody.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        var (_, profile) = await GetAsync(session.UserId);
        Assert.That(profile?.AsObject().ContainsKey(key), Is.False);
        Assert.That(profile?.AsObject().Count, Is.EqualTo(1));
    }

    [Test]
    public async Task A_profile_without_any_field_is_404_M_NOT_FOUND()
    {
        var session = await NewUserAsync();
        await PutAsync(session, "displayname", "");
        var (status, body) = await GetAsync(session.UserId);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task A_display_name_is_at_most_256_characters()
    {
        var session = await NewUserAsync();
        var (status, _) = await PutAsync(session, "displayname", new string('n', 256));
        Assert.That(status, Is.EqualTo(200));

        var (tooLong, body) = await PutAsync(session, "displayname", new string('n', 257));
        Assert.That(tooLong, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
        var (_, field) = await GetAsync(session.UserId, "displayname");
        Assert.That(((string?)field?["displayname"])?.Length, Is.EqualTo(256));
    }

    [TestCase("displayname", """{}""")]
    [TestCase("displayname", """{"avatar_url": "mxc://example.org/abc"}""")]
    [TestCase("avatar_url", """{"displayname": "x"}""")]
    [TestCase("com.example.field", """{"com.example.other": 1}""")]
    public async Task A_body_without_the_field_named_in_the_path_is_400_M_MISSING_PARAM(string key, string raw)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, FieldPath(session.UserId, key), raw, session.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_PARAM"));
    }

    [TestCase("displayname", """{"displayname": 5}""", "M_BAD_JSON")]
    [TestCase("displayname", """{"displayname": ["x"]}""", "M_BAD_JSON")]
    [TestCase("displayname", """{"displayname": true}""", "M_BAD_JSON")]
    [TestCase("avatar_url", """{"avatar_url": {"url": "mxc://example.org/abc"}}""", "M_BAD_JSON")]
    [TestCase("m.tz", """{"m.tz": 1}""", "M_BAD_JSON")]
    [TestCase("displayname", """["displayname", "x"]""", "M_BAD_JSON")]
    [TestCase("displayname", "\"x\"", "M_BAD_JSON")]
    [TestCase("displayname", "{\"displayname\": \"x\"", "M_NOT_JSON")]
    [TestCase("displayname", "displayname=x", "M_NOT_JSON")]
    public async Task A_body_of_the_wrong_shape_is_400(string key, string raw, string errcode)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, FieldPath(session.UserId, key), raw, session.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo(errcode));
    }

    [Test]
    public async Task Changing_another_users_profile_is_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();

        var (putStatus, putBody) = await PutAsync(alice, "displayname", "Not Bob", userId: bob.UserId);
        Assert.That(putStatus, Is.EqualTo(403));
        Assert.That(putBody.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var (deleteStatus, deleteBody) = await Server.SendAsync(HttpMethod.Delete, FieldPath(bob.UserId, "displayname"), accessToken: alice.AccessToken);
        Assert.That(deleteStatus, Is.EqualTo(403));
        Assert.That(deleteBody.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var (_, field) = await GetAsync(bob.UserId, "displayname");
        Assert.That((string?)field?["displayname"], Is.EqualTo(bob.UserId[1..bob.UserId.IndexOf(':', StringComparison.Ordinal)]));
    }

    [Test]
    public async Task Changing_a_profile_without_an_access_token_is_401_M_MISSING_TOKEN()
    {
        var session = await NewUserAsync();
        var (putStatus, putBody) = await Server.SendAsync(HttpMethod.Put, FieldPath(session.UserId, "displayname"), new JsonObject { ["displayname"] = "x" });
        Assert.That(putStatus, Is.EqualTo(401));
        Assert.That(putBody.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));

        var (deleteStatus, deleteBody) = await Server.SendAsync(HttpMethod.Delete, FieldPath(session.UserId, "displayname"));
        Assert.That(deleteStatus, Is.EqualTo(401));
        Assert.That(deleteBody.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    [TestCase(null)]
    [TestCase("displayname")]
    [TestCase("avatar_url")]
    [TestCase("com.example.field")]
    public async Task An_unknown_local_user_is_404_M_NOT_FOUND(string? key)
    {
        var (status, body) = await GetAsync("@nobody-here:" + Server.Config.ServerName, key);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [TestCase("alice")]
    [TestCase("@alice")]
    [TestCase("!room:localhost")]
    [TestCase("@alice:bad_server!")]
    [TestCase("@alice:")]
    public async Task A_malformed_user_id_is_400_M_INVALID_PARAM(string userId)
    {
        var (status, body) = await GetAsync(userId);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task A_user_id_with_a_slash_in_its_localpart_reaches_its_profile()
    {
        var name = Accounts.UniqueName("with/slash");
        var session = await Server.RegisterAsync(name);
        Assert.That(session.UserId, Does.Contain("/"));

        var (putStatus, _) = await PutAsync(session, "displayname", "Slashy");
        Assert.That(putStatus, Is.EqualTo(200));
        var (status, body) = await GetAsync(session.UserId, "displayname");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["displayname"], Is.EqualTo("Slashy"));
    }

    [Test]
    public async Task A_custom_field_holds_any_JSON_and_can_be_deleted()
    {
        var session = await NewUserAsync();
        var value = new JsonObject { ["title"] = "Engineer", ["since"] = 2021, ["tags"] = new JsonArray("a", "b") };
        var (status, _) = await PutAsync(session, "com.example.job", value);
        Assert.That(status, Is.EqualTo(200));

        var (_, field) = await GetAsync(session.UserId, "com.example.job");
        Assert.That(field?.ToJsonString(), Is.EqualTo(new JsonObject { ["com.example.job"] = value.DeepClone() }.ToJsonString()));
        var (_, profile) = await GetAsync(session.UserId);
        Assert.That(profile?["com.example.job"]?["title"]?.GetValue<string>(), Is.EqualTo("Engineer"));

        var (deleteStatus, deleteBody) = await Server.SendAsync(HttpMethod.Delete, FieldPath(session.UserId, "com.example.job"), accessToken: session.AccessToken);
        Assert.That(deleteStatus, Is.EqualTo(200));
        Assert.That(deleteBody?.ToJsonString(), Is.EqualTo("{}"));
        var (gone, goneBody) = await GetAsync(session.UserId, "com.example.job");
        Assert.That(gone, Is.EqualTo(404));
        Assert.That(goneBody.ErrCode(), Is.EqualTo("M_NOT_FOUND"));

        var (again, _) = await Server.SendAsync(HttpMethod.Delete, FieldPath(session.UserId, "com.example.job"), accessToken: session.AccessToken);
        Assert.That(again, Is.EqualTo(200));
    }

    [Test]
    public async Task A_null_custom_field_is_stored_not_deleted()
    {
        var session = await NewUserAsync();
        var (status, _) = await PutAsync(session, "org.example.flag", null);
        Assert.That(status, Is.EqualTo(200));
        var (getStatus, body) = await GetAsync(session.UserId, "org.example.flag");
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo("""{"org.example.flag":null}"""));
    }

    [Test]
    public async Task Deleting_the_display_name_removes_it()
    {
        var session = await NewUserAsync();
        var (status, _) = await Server.SendAsync(HttpMethod.Delete, FieldPath(session.UserId, "displayname"), accessToken: session.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        var (getStatus, _) = await GetAsync(session.UserId, "displayname");
        Assert.That(getStatus, Is.EqualTo(404));
    }

    [Test]
    public async Task A_time_zone_is_a_profile_field()
    {
        var session = await NewUserAsync();
        var (status, _) = await PutAsync(session, "m.tz", "Europe/London");
        Assert.That(status, Is.EqualTo(200));
        var (_, profile) = await GetAsync(session.UserId);
        Assert.That((string?)profile?["m.tz"], Is.EqualTo("Europe/London"));
    }

    [TestCase("nonamespace")]
    [TestCase("Com.Example.field")]
    [TestCase("com.example.")]
    [TestCase(".com.example")]
    [TestCase("com..example")]
    [TestCase("com.example-field")]
    [TestCase("1com.example")]
    public async Task A_key_outside_the_grammar_is_400_M_INVALID_PARAM(string key)
    {
        var session = await NewUserAsync();
        var (putStatus, putBody) = await PutAsync(session, key, "x");
        Assert.That(putStatus, Is.EqualTo(400));
        Assert.That(putBody.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));

        var (getStatus, getBody) = await GetAsync(session.UserId, key);
        Assert.That(getStatus, Is.EqualTo(400));
        Assert.That(getBody.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task A_key_over_255_bytes_is_400_M_KEY_TOO_LARGE()
    {
        var session = await NewUserAsync();
        var longest = "a." + new string('b', 253);
        var (okStatus, _) = await PutAsync(session, longest, 1);
        Assert.That(okStatus, Is.EqualTo(200));

        var (status, body) = await PutAsync(session, longest + "b", 1);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_KEY_TOO_LARGE"));
    }

    [Test]
    public async Task A_profile_must_stay_under_64_KiB()
    {
        var session = await NewUserAsync();
        var (status, _) = await PutAsync(session, "com.example.big", new string('x', 60_000));
        Assert.That(status, Is.EqualTo(200));

        var (tooLarge, body) = await PutAsync(session, "com.example.more", new string('y', 6_000));
        Assert.That(tooLarge, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_PROFILE_TOO_LARGE"));
        var (getStatus, _) = await GetAsync(session.UserId, "com.example.more");
        Assert.That(getStatus, Is.EqualTo(404));

        var (replace, _) = await PutAsync(session, "com.example.big", new string('z', 10));
        Assert.That(replace, Is.EqualTo(200));
        var (fits, _) = await PutAsync(session, "com.example.more", new string('y', 6_000));
        Assert.That(fits, Is.EqualTo(200));
    }

    [Test]
    public async Task A_deactivated_account_has_no_profile()
    {
        var session = await NewUserAsync();
        await PutAsync(session, "avatar_url", "mxc://example.org/abc");
        var (status, body) = await Server.SendAsync(
            HttpMethod.Post,
            "/_matrix/client/v3/account/deactivate",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(session.UserId) },
            session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var (profileStatus, profileBody) = await GetAsync(session.UserId);
        Assert.That(profileStatus, Is.EqualTo(404));
        Assert.That(profileBody.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        var (fieldStatus, _) = await GetAsync(session.UserId, "displayname");
        Assert.That(fieldStatus, Is.EqualTo(404));
    }

    [Test]
    public async Task A_profile_survives_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var session = await server.RegisterAsync("persistent");
        await server.SendAsync(HttpMethod.Put, FieldPath(session.UserId, "displayname"), new JsonObject { ["displayname"] = "Still here" }, session.AccessToken);

        await server.RestartAsync();

        var (status, body) = await server.SendAsync(HttpMethod.Get, FieldPath(session.UserId, "displayname"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body?["displayname"], Is.EqualTo("Still here"));
    }
}
