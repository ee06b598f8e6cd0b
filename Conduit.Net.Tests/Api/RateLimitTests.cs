using System.Text.Json.Nodes;
using Conduit.Net.Config;

namespace Conduit.Net.Tests.Api;

/// <summary>Per-IP token buckets on login and registration, when the config turns rate limiting on.</summary>
public sealed class RateLimitTests
{
    private static ServerConfig Limited(ServerConfig c) => c with
    {
        RateLimiting = true,
        RateLimits = new RateLimitsConfig
        {
            Login = new RateLimit { PerMinute = 1, Burst = 3 },
            Register = new RateLimit { PerMinute = 1, Burst = 2 },
        },
    };

    [Test]
    public async Task Logins_beyond_the_burst_are_429_M_LIMIT_EXCEEDED_with_retry_after_ms()
    {
        await using var server = await TestServer.StartAsync(Limited);

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
            statuses.Add((await server.LoginRawAsync("nobody", "wrong")).Status);
        var (status, body) = await server.LoginRawAsync("nobody", "wrong");

        Assert.That(statuses, Is.All.EqualTo(403));
        Assert.That((status, body.ErrCode()), Is.EqualTo((429, "M_LIMIT_EXCEEDED")));
        Assert.That((long?)body!["retry_after_ms"], Is.InRange(1, 60_000));
    }

    [Test]
    public async Task Registration_has_its_own_bucket()
    {
        await using var server = await TestServer.StartAsync(Limited);
        await server.LoginRawAsync("nobody", "wrong");

        var first = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject());
        var second = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject());
        var (status, body) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject());

        Assert.That((first.Status, second.Status), Is.EqualTo((401, 401)));
        Assert.That((status, body.ErrCode()), Is.EqualTo((429, "M_LIMIT_EXCEEDED")));
        Assert.That((await server.LoginRawAsync("nobody", "wrong")).Status, Is.EqualTo(403));
    }

    [Test]
    public async Task Authenticated_endpoints_are_not_under_these_limits()
    {
        await using var server = await TestServer.StartAsync(Limited);
        var session = await server.RegisterAsync("busy");

        var statuses = new List<int>();
        for (var i = 0; i < 10; i++)
            statuses.Add((await server.WhoAmIAsync(session.AccessToken)).Status);

        Assert.That(statuses, Is.All.EqualTo(200));
    }

    [Test]
    public async Task Rate_limiting_false_turns_every_limit_off()
    {
        await using var server = await TestServer.StartAsync(c => Limited(c) with { RateLimiting = false });

        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
            statuses.Add((await server.LoginRawAsync("nobody", "wrong")).Status);

        Assert.That(statuses, Is.All.EqualTo(403));
    }
}
