using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary><c>POST /account/password</c> and <c>POST /account/deactivate</c>.</summary>
public sealed class AccountTests : ServerFixture
{
    private const string PasswordPath = "/_matrix/client/v3/account/password";
    private const string DeactivatePath = "/_matrix/client/v3/account/deactivate";

    private static readonly string[] PasswordFlow = ["m.login.password"];

    [Test]
    public async Task Changing_the_password_asks_for_the_old_one_and_logs_out_the_other_devices_only()
    {
        var name = Accounts.UniqueName("pw");
        var caller = await Server.RegisterAsync(name);
        var other = await Server.LoginAsync(name);
        var request = new JsonObject { ["new_password"] = "a new password" };

        var (askStatus, ask) = await Server.SendAsync(HttpMethod.Post, PasswordPath, request, caller.AccessToken);
        Assert.That(askStatus, Is.EqualTo(401));
        Assert.That(ask!["flows"]!.AsArray().Select(f => (string?)f!["stages"]![0]), Is.EqualTo(PasswordFlow));

        request["auth"] = Accounts.PasswordAuth(caller.UserId, session: (string?)ask["session"]);
        var (status, _) = await Server.SendAsync(HttpMethod.Post, PasswordPath, request, caller.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync(caller.AccessToken)).Status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync(other.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await Server.LoginRawAsync(name)).Status, Is.EqualTo(403));
        Assert.That((await Server.LoginRawAsync(name, "a new password")).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task With_logout_devices_false_the_other_devices_stay()
    {
        var name = Accounts.UniqueName("keep");
        var caller = await Server.RegisterAsync(name);
        var other = await Server.LoginAsync(name);

        var (status, _) = await Server.SendAsync(HttpMethod.Post, PasswordPath, new JsonObject
        {
            ["new_password"] = "another password",
            ["logout_devices"] = false,
            ["auth"] = Accounts.PasswordAuth(caller.UserId),
        }, caller.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync(other.AccessToken)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_wrong_current_password_is_401_M_FORBIDDEN_with_the_auth_state()
    {
        var caller = await Server.RegisterAsync(Accounts.UniqueName("wrongpw"));

        var (status, body) = await Server.SendAsync(HttpMethod.Post, PasswordPath, new JsonObject
        {
            ["new_password"] = "whatever",
            ["auth"] = Accounts.PasswordAuth(caller.UserId, "not it"),
        }, caller.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That(body!["flows"], Is.Not.Null);
        Assert.That((string?)body["session"], Is.Not.Empty);
        Assert.That((await Server.LoginRawAsync(caller.UserId)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_missing_new_password_is_M_BAD_JSON()
    {
        var caller = await Server.RegisterAsync(Accounts.UniqueName("nonew"));

        var (status, body) = await Server.SendAsync(HttpMethod.Post, PasswordPath,
            new JsonObject { ["auth"] = Accounts.PasswordAuth(caller.UserId) }, caller.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task The_password_stage_accepts_the_auth_dict_without_an_identifier()
    {
        var caller = await Server.RegisterAsync(Accounts.UniqueName("noid"));

        var (status, _) = await Server.SendAsync(HttpMethod.Post, PasswordPath, new JsonObject
        {
            ["new_password"] = "changed",
            ["auth"] = new JsonObject { ["type"] = "m.login.password", ["password"] = Accounts.Password },
        }, caller.AccessToken);

        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task Deactivation_ends_every_session_and_the_account_for_good()
    {
        var name = Accounts.UniqueName("deact");
        var caller = await Server.RegisterAsync(name);
        var other = await Server.LoginAsync(name);

        var (askStatus, ask) = await Server.SendAsync(HttpMethod.Post, DeactivatePath, new JsonObject(), caller.AccessToken);
        var (status, body) = await Server.SendAsync(HttpMethod.Post, DeactivatePath,
            new JsonObject { ["auth"] = Accounts.PasswordAuth(caller.UserId, session: (string?)ask!["session"]) }, caller.AccessToken);

        Assert.That(askStatus, Is.EqualTo(401));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["id_server_unbind_result"], Is.EqualTo("no-support"));
        var (callerStatus, callerBody) = await Server.WhoAmIAsync(caller.AccessToken);
        Assert.That((callerStatus, callerBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        Assert.That((await Server.WhoAmIAsync(other.AccessToken)).Status, Is.EqualTo(401));
        var (login, loginBody) = await Server.LoginRawAsync(name);
        Assert.That((login, loginBody.ErrCode()), Is.EqualTo((403, "M_USER_DEACTIVATED")));
        var (register, registerBody) = await Server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject
        {
            ["username"] = name,
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });
        Assert.That((register, registerBody.ErrCode()), Is.EqualTo((400, "M_USER_IN_USE")));
    }

    [Test]
    public async Task Deactivation_with_a_wrong_password_changes_nothing()
    {
        var caller = await Server.RegisterAsync(Accounts.UniqueName("nodeact"));

        var (status, body) = await Server.SendAsync(HttpMethod.Post, DeactivatePath,
            new JsonObject { ["auth"] = Accounts.PasswordAuth(caller.UserId, "guess") }, caller.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That((await Server.WhoAmIAsync(caller.AccessToken)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_deactivated_account_survives_a_restart_deactivated()
    {
        await using var server = await TestServer.StartAsync();
        var caller = await server.RegisterAsync("gone");
        await server.SendAsync(HttpMethod.Post, DeactivatePath, new JsonObject { ["auth"] = Accounts.PasswordAuth(caller.UserId) }, caller.AccessToken);

        await server.RestartAsync();

        var (login, loginBody) = await server.LoginRawAsync("gone");
        Assert.That((login, loginBody.ErrCode()), Is.EqualTo((403, "M_USER_DEACTIVATED")));
        Assert.That((await server.WhoAmIAsync(caller.AccessToken)).Status, Is.EqualTo(401));
    }
}
