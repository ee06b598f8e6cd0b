using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary>Refresh tokens (<c>POST /refresh</c>) and expiring access tokens with soft logout.</summary>
public sealed class RefreshTests : ServerFixture
{
    private const string RefreshPath = "/_matrix/client/v3/refresh";

    private async Task<(string Access, string Refresh, string UserId)> LoginWithRefreshAsync()
    {
        var name = Accounts.UniqueName("refresh");
        await Server.RegisterAsync(name);
        var (status, body) = await Server.LoginRawAsync(name, extra: new JsonObject { ["refresh_token"] = true });
        Assert.That(status, Is.EqualTo(200));
        return ((string)body!["access_token"]!, (string)body["refresh_token"]!, (string)body["user_id"]!);
    }

    private Task<(int Status, JsonNode? Body)> Refresh(string refreshToken) =>
        Server.SendAsync(HttpMethod.Post, RefreshPath, new JsonObject { ["refresh_token"] = refreshToken });

    [Test]
    public async Task Login_with_refresh_token_true_returns_a_refresh_token_and_a_lifetime()
    {
        var name = Accounts.UniqueName("wants");
        await Server.RegisterAsync(name);

        var (status, body) = await Server.LoginRawAsync(name, extra: new JsonObject { ["refresh_token"] = true });

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["refresh_token"], Is.Not.Empty);
        Assert.That((long?)body["expires_in_ms"], Is.EqualTo(300_000));
    }

    [Test]
    public async Task Registration_with_refresh_token_true_returns_a_refresh_token()
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject
        {
            ["username"] = Accounts.UniqueName("regrefresh"),
            ["password"] = Accounts.Password,
            ["refresh_token"] = true,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["refresh_token"], Is.Not.Empty);
        Assert.That((long?)body["expires_in_ms"], Is.GreaterThan(0));
    }

    [Test]
    public async Task Refresh_returns_new_tokens_that_work()
    {
        var (_, refresh, userId) = await LoginWithRefreshAsync();

        var (status, body) = await Refresh(refresh);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["refresh_token"], Is.Not.EqualTo(refresh));
        Assert.That((long?)body["expires_in_ms"], Is.GreaterThan(0));
        var (who, whoBody) = await Server.WhoAmIAsync((string)body["access_token"]!);
        Assert.That(who, Is.EqualTo(200));
        Assert.That((string?)whoBody!["user_id"], Is.EqualTo(userId));
    }

    [Test]
    public async Task Using_the_new_access_token_revokes_the_old_access_and_refresh_tokens()
    {
        var (access, refresh, _) = await LoginWithRefreshAsync();
        var (_, body) = await Refresh(refresh);
        Assert.That((await Server.WhoAmIAsync(access)).Status, Is.EqualTo(200), "the old access token works until the new one is used");

        Assert.That((await Server.WhoAmIAsync((string)body!["access_token"]!)).Status, Is.EqualTo(200));

        var (oldAccess, oldAccessBody) = await Server.WhoAmIAsync(access);
        Assert.That((oldAccess, oldAccessBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        var (oldRefresh, oldRefreshBody) = await Refresh(refresh);
        Assert.That((oldRefresh, oldRefreshBody.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
    }

    [Test]
    public async Task Using_the_new_refresh_token_revokes_the_old_one()
    {
        var (access, refresh, _) = await LoginWithRefreshAsync();
        var (_, first) = await Refresh(refresh);

        var (second, secondBody) = await Refresh((string)first!["refresh_token"]!);

        Assert.That(second, Is.EqualTo(200));
        Assert.That((await Refresh(refresh)).Status, Is.EqualTo(401));
        Assert.That((await Server.WhoAmIAsync(access)).Status, Is.EqualTo(401));
        Assert.That((await Server.WhoAmIAsync((string)secondBody!["access_token"]!)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task The_old_refresh_token_can_repeat_a_refresh_whose_result_was_lost()
    {
        var (_, refresh, _) = await LoginWithRefreshAsync();
        var (_, lost) = await Refresh(refresh);

        var (status, retried) = await Refresh(refresh);

        Assert.That(status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync((string)retried!["access_token"]!)).Status, Is.EqualTo(200));
        Assert.That((await Server.WhoAmIAsync((string)lost!["access_token"]!)).Status, Is.EqualTo(401), "the unconfirmed pair is replaced");
    }

    [Test]
    public async Task An_unknown_refresh_token_is_401_M_UNKNOWN_TOKEN()
    {
        var (status, body) = await Refresh("no-such-refresh-token");

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
    }

    [Test]
    public async Task A_missing_refresh_token_is_M_BAD_JSON()
    {
        var (status, body) = await Server.SendAsync(HttpMethod.Post, RefreshPath, new JsonObject());

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task Logout_revokes_the_refresh_token_too()
    {
        var (access, refresh, _) = await LoginWithRefreshAsync();

        await Server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/logout", new JsonObject(), access);

        Assert.That((await Refresh(refresh)).Status, Is.EqualTo(401));
    }

    [Test]
    public async Task An_expired_access_token_is_401_M_UNKNOWN_TOKEN_with_soft_logout_and_refresh_still_works()
    {
        await using var server = await TestServer.StartAsync(c => c with { RefreshableAccessTokenLifetimeMs = 50 });
        await server.RegisterAsync("shortlived");
        var (_, login) = await server.LoginRawAsync("shortlived", extra: new JsonObject { ["refresh_token"] = true });
        var plain = await server.LoginAsync("shortlived");
        await Task.Delay(200);

        var (status, body) = await server.WhoAmIAsync((string)login!["access_token"]!);

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_UNKNOWN_TOKEN")));
        Assert.That((bool?)body!["soft_logout"], Is.True);
        Assert.That((await server.WhoAmIAsync(plain.AccessToken)).Status, Is.EqualTo(200), "tokens without refresh never expire");
        var (refreshed, refreshedBody) = await server.SendAsync(HttpMethod.Post, RefreshPath, new JsonObject { ["refresh_token"] = (string?)login["refresh_token"] });
        Assert.That(refreshed, Is.EqualTo(200));
        Assert.That((string?)refreshedBody!["access_token"], Is.Not.Empty);
    }

    [Test]
    public async Task Refresh_tokens_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        await server.RegisterAsync("durable");
        var (_, login) = await server.LoginRawAsync("durable", extra: new JsonObject { ["refresh_token"] = true });

        await server.RestartAsync();

        var (status, body) = await server.SendAsync(HttpMethod.Post, RefreshPath, new JsonObject { ["refresh_token"] = (string?)login!["refresh_token"] });
        Assert.That(status, Is.EqualTo(200));
        Assert.That((await server.WhoAmIAsync((string)body!["access_token"]!)).Status, Is.EqualTo(200));
    }
}
