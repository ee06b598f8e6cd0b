using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary><c>GET/POST /login</c>, <c>/logout</c>, <c>/logout/all</c>, <c>/account/whoami</c> and the access-token check.</summary>
public sealed class LoginTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Get_login_offers_the_password_flow()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, Accounts.LoginPath);

        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["flows"]!.AsArray().Select(f => (string?)f!["type"]), Does.Contain("m.login.password"));
    }

    [Test]
    public async Task Password_login_returns_user_id_access_token_device_id_and_home_server()
    {
        var name = Accounts.UniqueName("login");
        await _server.RegisterAsync(name);

        var (status, body) = await _server.LoginRawAsync(name);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{name}:localhost"));
        Assert.That((string?)body["home_server"], Is.EqualTo("localhost"));
        Assert.That((string?)body["device_id"], Is.Not.Empty);
        Assert.That((string?)body["access_token"], Has.Length.GreaterThanOrEqualTo(43));
        Assert.That(body["refresh_token"], Is.Null);
        Assert.That(body["expires_in_ms"], Is.Null);
        Assert.That(body["well_known"], Is.Null);
        var (who, whoBody) = await _server.WhoAmIAsync((string)body["access_token"]!);
        Assert.That(who, Is.EqualTo(200));
        Assert.That((string?)whoBody!["device_id"], Is.EqualTo((string?)body["device_id"]));
        Assert.That((bool?)whoBody["is_guest"], Is.False);
    }

    [Test]
    public async Task The_user_may_be_a_full_user_id_or_a_localpart_in_any_case()
    {
        var name = Accounts.UniqueName("case");
        await _server.RegisterAsync(name);

        var full = await _server.LoginAsync($"@{name}:localhost");
        var upper = await _server.LoginAsync(name.ToUpperInvariant());
        var upperFull = await _server.LoginAsync($"@{name.ToUpperInvariant()}:localhost");

        Assert.That(new[] { full.UserId, upper.UserId, upperFull.UserId }, Is.All.EqualTo($"@{name}:localhost"));
    }

    [Test]
    public async Task The_deprecated_top_level_user_field_still_logs_in()
    {
        var name = Accounts.UniqueName("legacy");
        await _server.RegisterAsync(name);

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Accounts.LoginPath, new JsonObject
        {
            ["type"] = "m.login.password",
            ["user"] = name,
            ["password"] = Accounts.Password,
        });

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{name}:localhost"));
    }

    [Test]
    public async Task A_wrong_password_and_an_unknown_user_are_the_same_403_M_FORBIDDEN()
    {
        var name = Accounts.UniqueName("wrong");
        await _server.RegisterAsync(name);

        var (wrongStatus, wrong) = await _server.LoginRawAsync(name, "not the password");
        var (unknownStatus, unknown) = await _server.LoginRawAsync(Accounts.UniqueName("nobody"));
        var (remoteStatus, remote) = await _server.LoginRawAsync($"@{name}:elsewhere.example");

        Assert.That((wrongStatus, wrong.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((unknownStatus, unknown.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((remoteStatus, remote.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((string?)unknown!["error"], Is.EqualTo((string?)wrong!["error"]));
    }

    [Test]
    public async Task An_unknown_login_type_is_400_M_UNKNOWN()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Accounts.LoginPath, new JsonObject { ["type"] = "m.login.magic" });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));
    }

    [Test]
    public async Task A_third_party_identifier_is_403_because_no_3pid_is_known()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, Accounts.LoginPath, new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.thirdparty", ["medium"] = "email", ["address"] = "a@example.org" },
            ["password"] = Accounts.Password,
        });

        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task A_body_that_is_not_JSON_is_400_M_NOT_JSON()
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, Accounts.LoginPath, "type=m.login.password");

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_JSON"));
    }

    [TestCase("{\"type\": \"m.login.password\", \"identifier\": {\"type\": \"m.id.user\", \"user\": \"a\"}, \"password\": 1234}")]
    [TestCase("{\"type\": 1}")]
    [TestCase("{\"type\": \"m.login.password\", \"identifier\": \"alice\", \"password\": \"x\"}")]
    [TestCase("{\"type\": \"m.login.password\", \"identifier\": {\"type\": \"m.id.user\", \"user\": \"a\"}, \"password\": \"x\", \"refresh_token\": \"yes\"}")]
    public async Task A_field_of_the_wrong_type_is_400_M_BAD_JSON(string raw)
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, Accounts.LoginPath, raw);

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task Logging_in_again_with_a_device_id_replaces_that_devices_token()
    {
        var name = Accounts.UniqueName("reuse");
        await _server.RegisterAsync(name);
        var first = await _server.LoginAsync(name, extra: new JsonObject { ["device_id"] = "REUSED", ["initial_device_display_name"] = "First name" });

        var second = await _server.LoginAsync(name, extra: new JsonObject { ["device_id"] = "REUSED", ["initial_device_display_name"] = "Ignored" });

        Assert.That(second.DeviceId, Is.EqualTo("REUSED"));
        Assert.That((await _server.WhoAmIAsync(first.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await _server.WhoAmIAsync(second.AccessToken)).Status, Is.EqualTo(200));
        var (_, devices) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/devices", accessToken: second.AccessToken);
        var reused = devices!["devices"]!.AsArray().Where(d => (string?)d!["device_id"] == "REUSED").ToList();
        Assert.That(reused, Has.Count.EqualTo(1));
        Assert.That((string?)reused[0]!["display_name"], Is.EqualTo("First name"));
    }

    [Test]
    public async Task A_missing_token_is_401_M_MISSING_TOKEN()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, Accounts.WhoAmIPath);

        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_TOKEN"));
    }

    [Test]
    public async Task An_unknown_token_is_401_M_UNKNOWN_TOKEN_without_soft_logout()
    {
        var (status, body) = await _server.WhoAmIAsync("not-a-token");

        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN_TOKEN"));
        Assert.That((bool?)body!["soft_logout"] ?? false, Is.False);
    }

    [Test]
    public async Task The_access_token_query_parameter_is_accepted()
    {
        var session = await _server.RegisterAsync(Accounts.UniqueName("query"));

        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{Accounts.WhoAmIPath}?access_token={session.AccessToken}");

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Is.EqualTo(session.UserId));
    }

    [Test]
    public async Task Logout_invalidates_only_that_token_and_deletes_its_device()
    {
        var name = Accounts.UniqueName("logout");
        var kept = await _server.RegisterAsync(name);
        var gone = await _server.LoginAsync(name);

        var (status, _) = await _server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/logout", new JsonObject(), gone.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        var (goneStatus, goneBody) = await _server.WhoAmIAsync(gone.AccessToken);
        Assert.That((goneStatus, goneBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        Assert.That((await _server.WhoAmIAsync(kept.AccessToken)).Status, Is.EqualTo(200));
        var (_, devices) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/devices", accessToken: kept.AccessToken);
        Assert.That(devices!["devices"]!.AsArray().Select(d => (string?)d!["device_id"]), Is.EqualTo(new[] { kept.DeviceId }));
    }

    [Test]
    public async Task Logout_all_invalidates_every_token_of_the_user_and_no_one_elses()
    {
        var name = Accounts.UniqueName("logoutall");
        var one = await _server.RegisterAsync(name);
        var two = await _server.LoginAsync(name);
        var stranger = await _server.RegisterAsync(Accounts.UniqueName("stranger"));

        var (status, _) = await _server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/logout/all", new JsonObject(), one.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((await _server.WhoAmIAsync(one.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await _server.WhoAmIAsync(two.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await _server.WhoAmIAsync(stranger.AccessToken)).Status, Is.EqualTo(200));
        var again = await _server.LoginAsync(name);
        Assert.That(again.UserId, Is.EqualTo(one.UserId));
    }

    [Test]
    public async Task Login_includes_well_known_when_the_client_base_url_is_configured()
    {
        await using var server = await TestServer.StartAsync(c => c with { WellKnown = new() { Client = "https://matrix.example.org" } });
        await server.RegisterAsync("wk");

        var (status, body) = await server.LoginRawAsync("wk");

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["well_known"]?["m.homeserver"]?["base_url"], Is.EqualTo("https://matrix.example.org"));
    }
}

/// <summary>Accounts, devices and tokens are stored, not held in memory.</summary>
public sealed class AccountPersistenceTests
{
    [Test]
    public async Task A_restart_keeps_accounts_devices_and_tokens()
    {
        await using var server = await TestServer.StartAsync();
        var registered = await server.RegisterAsync("keeper", extra: new JsonObject { ["initial_device_display_name"] = "Laptop" });
        var phone = await server.LoginAsync("keeper", extra: new JsonObject { ["initial_device_display_name"] = "Phone" });

        await server.RestartAsync();

        var (who, whoBody) = await server.WhoAmIAsync(registered.AccessToken);
        Assert.That(who, Is.EqualTo(200));
        Assert.That((string?)whoBody!["device_id"], Is.EqualTo(registered.DeviceId));
        Assert.That((await server.WhoAmIAsync(phone.AccessToken)).Status, Is.EqualTo(200));
        var (_, devices) = await server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/devices", accessToken: phone.AccessToken);
        var names = devices!["devices"]!.AsArray().ToDictionary(d => (string)d!["device_id"]!, d => (string?)d!["display_name"]);
        Assert.That(names, Is.EquivalentTo(new Dictionary<string, string?> { [registered.DeviceId] = "Laptop", [phone.DeviceId] = "Phone" }));
        Assert.That((await server.LoginRawAsync("keeper")).Status, Is.EqualTo(200));
        var (taken, takenBody) = await server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/register/available?username=keeper");
        Assert.That((taken, takenBody.ErrCode()), Is.EqualTo((400, "M_USER_IN_USE")));
    }
}
