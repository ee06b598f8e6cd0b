using System.Text.Json.Nodes;
using Conduit.Net.Services.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Api;

/// <summary><c>POST /register</c> and <c>GET /register/available</c> with open registration (the dummy flow).</summary>
public sealed class RegistrationTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<(int Status, JsonNode? Body)> Register(JsonObject body, string query = "") =>
        _server.SendAsync(HttpMethod.Post, Accounts.RegisterPath + query, body);

    [Test]
    public async Task A_first_call_without_auth_is_401_with_flows_params_and_a_session_but_no_errcode()
    {
        var (status, body) = await Register(new JsonObject { ["username"] = Accounts.UniqueName("flows"), ["password"] = Accounts.Password });

        Assert.That(status, Is.EqualTo(401));
        var stages = body!["flows"]!.AsArray().Select(f => string.Join(",", f!["stages"]!.AsArray().Select(s => (string?)s))).ToList();
        Assert.That(stages, Is.EqualTo(new List<string> { "m.login.dummy" }));
        Assert.That(body["params"], Is.InstanceOf<JsonObject>());
        Assert.That((string?)body["session"], Is.Not.Empty);
        Assert.That(body["errcode"], Is.Null);
        Assert.That(body["completed"], Is.Null);
    }

    [Test]
    public async Task Completing_the_dummy_stage_with_the_session_registers_and_logs_in()
    {
        var name = Accounts.UniqueName("dummy");
        var request = new JsonObject { ["username"] = name, ["password"] = Accounts.Password };
        var (_, first) = await Register(request);
        request["auth"] = new JsonObject { ["type"] = "m.login.dummy", ["session"] = (string?)first!["session"] };

        var (status, body) = await Register(request);

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{name}:localhost"));
        Assert.That((string?)body["home_server"], Is.EqualTo("localhost"));
        Assert.That((string?)body["device_id"], Is.Not.Empty);
        var (whoStatus, who) = await _server.WhoAmIAsync((string)body["access_token"]!);
        Assert.That(whoStatus, Is.EqualTo(200));
        Assert.That((string?)who!["user_id"], Is.EqualTo($"@{name}:localhost"));
        Assert.That((string?)who["device_id"], Is.EqualTo((string?)body["device_id"]));
    }

    [Test]
    public async Task A_client_may_add_fields_when_it_resubmits_with_the_session()
    {
        var name = Accounts.UniqueName("resubmit");
        var (_, first) = await Register(new JsonObject { ["username"] = name, ["password"] = Accounts.Password });

        var (status, body) = await Register(new JsonObject
        {
            ["username"] = name,
            ["password"] = Accounts.Password,
            ["refresh_token"] = true,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy", ["session"] = (string?)first!["session"] },
        });

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{name}:localhost"));
        Assert.That((string?)body["refresh_token"], Is.Not.Empty);
    }

    [Test]
    public async Task A_registration_session_cannot_authorize_another_endpoint()
    {
        var session = await _server.RegisterAsync(Accounts.UniqueName("cross"));
        var (_, first) = await Register(new JsonObject { ["devices"] = new JsonArray() });

        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/delete_devices", new JsonObject
        {
            ["devices"] = new JsonArray(),
            ["auth"] = Accounts.PasswordAuth(session.UserId, session: (string?)first!["session"]),
        }, session.AccessToken);

        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task An_unknown_session_is_400()
    {
        var (status, body) = await Register(new JsonObject
        {
            ["username"] = Accounts.UniqueName("nosession"),
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy", ["session"] = "no-such-session" },
        });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));
    }

    [Test]
    public async Task A_session_that_registered_an_account_cannot_be_used_again()
    {
        // No username, so that a second account would not clash with the first: only the session can refuse.
        var request = new JsonObject { ["password"] = Accounts.Password };
        var (_, first) = await Register(request);
        request["auth"] = new JsonObject { ["type"] = "m.login.dummy", ["session"] = (string?)first!["session"] };
        var (ok, _) = await Register(request);

        var (status, body) = await Register(request);

        Assert.That(ok, Is.EqualTo(200));
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_UNKNOWN"));
    }

    [Test]
    public async Task An_auth_type_the_flows_do_not_offer_is_401_with_errcode()
    {
        var (status, body) = await Register(new JsonObject
        {
            ["username"] = Accounts.UniqueName("wrongstage"),
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.recaptcha" },
        });

        Assert.That(status, Is.EqualTo(401));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        Assert.That(body!["flows"], Is.Not.Null);
        Assert.That((string?)body["session"], Is.Not.Empty);
    }

    [Test]
    public async Task A_taken_name_is_400_M_USER_IN_USE_before_any_auth()
    {
        var name = Accounts.UniqueName("taken");
        await _server.RegisterAsync(name);

        var (status, body) = await Register(new JsonObject { ["username"] = name, ["password"] = Accounts.Password });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_USER_IN_USE"));
    }

    [TestCase("conduit")]
    [TestCase("Conduit")]
    public async Task A_reserved_name_is_M_USER_IN_USE(string name)
    {
        var (status, body) = await Register(new JsonObject { ["username"] = name, ["password"] = Accounts.Password });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_USER_IN_USE"));
    }

    [TestCase("has space")]
    [TestCase("bang!")]
    [TestCase("colon:name")]
    [TestCase("ünïcode")]
    [TestCase("")]
    public async Task A_name_outside_the_localpart_grammar_is_400_M_INVALID_USERNAME(string name)
    {
        var (status, body) = await Register(new JsonObject { ["username"] = name, ["password"] = Accounts.Password });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_USERNAME"));
    }

    [Test]
    public async Task A_user_id_longer_than_255_bytes_is_M_INVALID_USERNAME()
    {
        // "@" + localpart + ":localhost" must stay within 255 bytes.
        var longest = new string('a', 255 - 1 - ":localhost".Length);

        var (tooLong, body) = await Register(new JsonObject { ["username"] = longest + "a", ["password"] = Accounts.Password });
        var fits = await _server.RegisterAsync(longest);

        Assert.That(tooLong, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_USERNAME"));
        Assert.That(fits.UserId, Has.Length.EqualTo(255));
    }

    [Test]
    public async Task Upper_case_in_the_username_maps_to_a_lower_case_localpart()
    {
        var name = Accounts.UniqueName("MiXeD");

        var session = await _server.RegisterAsync(name);

        Assert.That(session.UserId, Is.EqualTo($"@{name.ToLowerInvariant()}:localhost"));
    }

    [Test]
    public async Task Without_a_username_the_server_generates_a_valid_localpart()
    {
        var (status, body) = await Register(new JsonObject
        {
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Does.Match("^@[a-z0-9]+:localhost$"));
    }

    [Test]
    public async Task Inhibit_login_returns_only_the_user_id()
    {
        var name = Accounts.UniqueName("inhibit");

        var (status, body) = await Register(new JsonObject
        {
            ["username"] = name,
            ["password"] = Accounts.Password,
            ["inhibit_login"] = true,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{name}:localhost"));
        Assert.That(body["access_token"], Is.Null);
        Assert.That(body["device_id"], Is.Null);
        Assert.That(body["refresh_token"], Is.Null);
        var (login, _) = await _server.LoginRawAsync(name);
        Assert.That(login, Is.EqualTo(200));
    }

    [Test]
    public async Task The_given_device_id_and_display_name_become_the_first_device()
    {
        var session = await _server.RegisterAsync(Accounts.UniqueName("device"), extra: new JsonObject
        {
            ["device_id"] = "MYDEVICE",
            ["initial_device_display_name"] = "Jungle Phone",
        });

        var (status, device) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/devices/MYDEVICE", accessToken: session.AccessToken);

        Assert.That(session.DeviceId, Is.EqualTo("MYDEVICE"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)device!["display_name"], Is.EqualTo("Jungle Phone"));
    }

    [Test]
    public async Task Guest_registration_is_403_M_GUEST_ACCESS_FORBIDDEN()
    {
        var (status, body) = await Register(new JsonObject(), "?kind=guest");

        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_GUEST_ACCESS_FORBIDDEN"));
    }

    [Test]
    public async Task A_password_is_required_once_auth_is_complete()
    {
        var (status, body) = await Register(new JsonObject
        {
            ["username"] = Accounts.UniqueName("nopassword"),
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_MISSING_PARAM"));
    }

    [Test]
    public async Task An_empty_password_is_M_WEAK_PASSWORD()
    {
        var (status, body) = await Register(new JsonObject { ["username"] = Accounts.UniqueName("weak"), ["password"] = "" });

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_WEAK_PASSWORD"));
    }

    [Test]
    public async Task A_body_that_is_not_JSON_is_400_M_NOT_JSON()
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, Accounts.RegisterPath, "{\"username\":");

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_JSON"));
    }

    [TestCase("{\"username\": 5}")]
    [TestCase("{\"password\": true}")]
    [TestCase("{\"inhibit_login\": \"yes\"}")]
    [TestCase("{\"auth\": \"dummy\"}")]
    [TestCase("[]")]
    public async Task A_field_of_the_wrong_type_is_400_M_BAD_JSON(string raw)
    {
        var (status, body) = await _server.SendRawAsync(HttpMethod.Post, Accounts.RegisterPath, raw);

        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }

    [Test]
    public async Task Available_is_true_for_a_free_name_and_errors_otherwise()
    {
        var taken = Accounts.UniqueName("avail");
        await _server.RegisterAsync(taken);

        var (free, freeBody) = await _server.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/register/available?username={Accounts.UniqueName("free")}");
        var (inUse, inUseBody) = await _server.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/register/available?username={taken}");
        var (invalid, invalidBody) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/register/available?username=no%20spaces");

        Assert.That(free, Is.EqualTo(200));
        Assert.That((bool?)freeBody!["available"], Is.True);
        Assert.That((inUse, inUseBody.ErrCode()), Is.EqualTo((400, "M_USER_IN_USE")));
        Assert.That((invalid, invalidBody.ErrCode()), Is.EqualTo((400, "M_INVALID_USERNAME")));
    }

    [Test]
    public async Task Token_validity_is_403_when_registration_uses_no_tokens()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, "/_matrix/client/v1/register/m.login.registration_token/validity?token=abc");

        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task The_first_registered_user_becomes_admin_and_later_ones_do_not()
    {
        await using var server = await TestServer.StartAsync();
        var first = await server.RegisterAsync("first");
        var second = await server.RegisterAsync("second");

        var users = server.Host.Services.GetRequiredService<UserService>().ListUsers();

        Assert.That(users.Single(u => u.UserId == first.UserId).Admin, Is.True);
        Assert.That(users.Single(u => u.UserId == second.UserId).Admin, Is.False);
    }
}

/// <summary>Registration when the config turns it off.</summary>
public sealed class DisabledRegistrationTests
{
    [Test]
    public async Task Registration_disabled_is_403_M_FORBIDDEN_for_register_and_available()
    {
        await using var server = await TestServer.StartAsync(c => c with { AllowRegistration = false });

        var (status, body) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject
        {
            ["username"] = "nobody",
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });
        var (available, availableBody) = await server.SendAsync(HttpMethod.Get, "/_matrix/client/v3/register/available?username=nobody");

        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((available, availableBody.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
    }
}
