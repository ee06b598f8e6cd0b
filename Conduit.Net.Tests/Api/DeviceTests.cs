using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary>Device management: list, get, rename, and deletion behind user-interactive auth.</summary>
public sealed class DeviceTests : ServerFixture
{
    private const string DevicesPath = "/_matrix/client/v3/devices";

    private static readonly string[] PasswordFlow = ["m.login.password"];

    [Test]
    public async Task The_device_list_has_every_device_with_last_seen_ip_and_time()
    {
        var name = Accounts.UniqueName("list");
        var first = await Server.RegisterAsync(name, extra: new JsonObject { ["initial_device_display_name"] = "Desk" });
        var second = await Server.LoginAsync(name);

        var (status, body) = await Server.SendAsync(HttpMethod.Get, DevicesPath, accessToken: first.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        var devices = body!["devices"]!.AsArray().ToDictionary(d => (string)d!["device_id"]!);
        Assert.That(devices.Keys, Is.EquivalentTo(new[] { first.DeviceId, second.DeviceId }));
        Assert.That((string?)devices[first.DeviceId]!["display_name"], Is.EqualTo("Desk"));
        Assert.That((string?)devices[first.DeviceId]!["last_seen_ip"], Is.EqualTo("127.0.0.1"));
        Assert.That((long?)devices[first.DeviceId]!["last_seen_ts"], Is.GreaterThan(0));
    }

    [Test]
    public async Task Another_users_devices_are_not_visible()
    {
        var mine = await Server.RegisterAsync(Accounts.UniqueName("mine"));
        var theirs = await Server.RegisterAsync(Accounts.UniqueName("theirs"));

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{DevicesPath}/{theirs.DeviceId}", accessToken: mine.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task Get_an_unknown_device_is_404_M_NOT_FOUND()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("unknown"));

        var (status, body) = await Server.SendAsync(HttpMethod.Get, $"{DevicesPath}/NOSUCHDEVICE", accessToken: session.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task Put_renames_a_device_and_leaves_it_alone_without_a_name()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("rename"));
        var path = $"{DevicesPath}/{session.DeviceId}";

        var (renamed, _) = await Server.SendAsync(HttpMethod.Put, path, new JsonObject { ["display_name"] = "My other phone" }, session.AccessToken);
        var (unchanged, _) = await Server.SendAsync(HttpMethod.Put, path, new JsonObject(), session.AccessToken);
        var (_, device) = await Server.SendAsync(HttpMethod.Get, path, accessToken: session.AccessToken);

        Assert.That(renamed, Is.EqualTo(200));
        Assert.That(unchanged, Is.EqualTo(200));
        Assert.That((string?)device!["display_name"], Is.EqualTo("My other phone"));
    }

    [Test]
    public async Task Put_on_an_unknown_device_is_404_and_does_not_create_it()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("nocreate"));

        var (status, body) = await Server.SendAsync(HttpMethod.Put, $"{DevicesPath}/NEWDEVICE", new JsonObject { ["display_name"] = "x" }, session.AccessToken);
        var (get, _) = await Server.SendAsync(HttpMethod.Get, $"{DevicesPath}/NEWDEVICE", accessToken: session.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        Assert.That(get, Is.EqualTo(404));
    }

    [Test]
    public async Task A_display_name_of_the_wrong_type_is_M_BAD_JSON()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("badname"));

        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, $"{DevicesPath}/{session.DeviceId}", "{\"display_name\": 1}", session.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task Deleting_a_device_asks_for_the_password_then_logs_the_device_out()
    {
        var name = Accounts.UniqueName("delete");
        var keeper = await Server.RegisterAsync(name);
        var doomed = await Server.LoginAsync(name);
        var path = $"{DevicesPath}/{doomed.DeviceId}";

        var (askStatus, ask) = await Server.SendAsync(HttpMethod.Delete, path, new JsonObject(), keeper.AccessToken);
        Assert.That(askStatus, Is.EqualTo(401));
        Assert.That(ask!["errcode"], Is.Null);
        Assert.That(ask["flows"]!.AsArray().Select(f => (string?)f!["stages"]![0]), Is.EqualTo(PasswordFlow));
        var session = (string)ask["session"]!;

        var (wrongStatus, wrong) = await Server.SendAsync(HttpMethod.Delete, path,
            new JsonObject { ["auth"] = Accounts.PasswordAuth(keeper.UserId, "wrong password", session) }, keeper.AccessToken);
        Assert.That((wrongStatus, wrong.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That((string?)wrong!["session"], Is.EqualTo(session));
        Assert.That(wrong["flows"], Is.Not.Null);
        Assert.That((await Server.WhoAmIAsync(doomed.AccessToken)).Status, Is.EqualTo(200));

        var (status, _) = await Server.SendAsync(HttpMethod.Delete, path,
            new JsonObject { ["auth"] = Accounts.PasswordAuth(keeper.UserId, session: session) }, keeper.AccessToken);

        Assert.That(status, Is.EqualTo(200));
        var (gone, goneBody) = await Server.WhoAmIAsync(doomed.AccessToken);
        Assert.That((gone, goneBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        Assert.That((await Server.SendAsync(HttpMethod.Get, path, accessToken: keeper.AccessToken)).Status, Is.EqualTo(404));
        Assert.That((await Server.WhoAmIAsync(keeper.AccessToken)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_session_for_deleting_one_device_cannot_delete_another()
    {
        var name = Accounts.UniqueName("bind");
        var keeper = await Server.RegisterAsync(name);
        var one = await Server.LoginAsync(name);
        var two = await Server.LoginAsync(name);
        var (_, ask) = await Server.SendAsync(HttpMethod.Delete, $"{DevicesPath}/{one.DeviceId}", new JsonObject(), keeper.AccessToken);

        var (status, body) = await Server.SendAsync(HttpMethod.Delete, $"{DevicesPath}/{two.DeviceId}",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(keeper.UserId, session: (string?)ask!["session"]) }, keeper.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((await Server.WhoAmIAsync(two.AccessToken)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task Another_users_password_does_not_complete_the_stage()
    {
        var victim = await Server.RegisterAsync(Accounts.UniqueName("victim"));
        var attacker = await Server.RegisterAsync(Accounts.UniqueName("attacker"), "attacker password");

        var (status, body) = await Server.SendAsync(HttpMethod.Delete, $"{DevicesPath}/{victim.DeviceId}",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(attacker.UserId, "attacker password") }, victim.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That((await Server.WhoAmIAsync(victim.AccessToken)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task Deleting_an_unknown_device_succeeds()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("gone"));

        var (status, _) = await Server.SendAsync(HttpMethod.Delete, $"{DevicesPath}/NEVEREXISTED",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(session.UserId) }, session.AccessToken);

        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task Delete_devices_removes_the_listed_devices_and_keeps_the_rest()
    {
        var name = Accounts.UniqueName("bulk");
        var keeper = await Server.RegisterAsync(name);
        var one = await Server.LoginAsync(name);
        var two = await Server.LoginAsync(name);
        var three = await Server.LoginAsync(name);
        var request = new JsonObject { ["devices"] = new JsonArray(one.DeviceId, two.DeviceId) };

        var (askStatus, ask) = await Server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/delete_devices", request, keeper.AccessToken);
        request["auth"] = Accounts.PasswordAuth(keeper.UserId, session: (string?)ask!["session"]);
        var (status, _) = await Server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/delete_devices", request, keeper.AccessToken);

        Assert.That(askStatus, Is.EqualTo(401));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync(one.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await Server.WhoAmIAsync(two.AccessToken)).Status, Is.EqualTo(401));
        Assert.That((await Server.WhoAmIAsync(three.AccessToken)).Status, Is.EqualTo(200));
        var (_, list) = await Server.SendAsync(HttpMethod.Get, DevicesPath, accessToken: keeper.AccessToken);
        Assert.That(list!["devices"]!.AsArray().Select(d => (string?)d!["device_id"]), Is.EquivalentTo(new[] { keeper.DeviceId, three.DeviceId }));
    }

    [Test]
    public async Task Delete_devices_without_the_device_list_is_M_BAD_JSON()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("nolist"));

        var (status, body) = await Server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/delete_devices", new JsonObject(), session.AccessToken);

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task Device_endpoints_need_an_access_token()
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Get, DevicesPath);

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_MISSING_TOKEN")));
    }
}
