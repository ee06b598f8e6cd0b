using System.Text.Json.Nodes;
using Conduit.Net.Services.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Api;

/// <summary>Token-authenticated registration (<c>m.login.registration_token</c>) with a static and with managed tokens.</summary>
public sealed class RegistrationTokenTests
{
    private static readonly string[] TokenFlow = ["m.login.registration_token"];

    private const string ValidityPath = "/_matrix/client/v1/register/m.login.registration_token/validity";

    private static JsonObject TokenRequest(string username, string token, string? session = null)
    {
        var auth = new JsonObject { ["type"] = "m.login.registration_token", ["token"] = token };
        if (session is not null)
            auth["session"] = session;
        return new JsonObject { ["username"] = username, ["password"] = Accounts.Password, ["auth"] = auth };
    }

    private static RegistrationTokenService Tokens(TestServer server) => server.Host.Services.GetRequiredService<RegistrationTokenService>();

    [Test]
    public async Task A_configured_token_makes_the_token_stage_the_only_flow()
    {
        await using var server = await TestServer.StartAsync(c => c with { RegistrationToken = "letmein" });

        var (askStatus, ask) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject { ["username"] = "a", ["password"] = Accounts.Password });
        var (dummy, dummyBody) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject
        {
            ["username"] = "a",
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });

        Assert.That(askStatus, Is.EqualTo(401));
        Assert.That(ask!["flows"]!.AsArray().Select(f => (string?)f!["stages"]![0]), Is.EqualTo(TokenFlow));
        Assert.That((dummy, dummyBody.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
    }

    [Test]
    public async Task A_wrong_token_is_401_M_FORBIDDEN_and_the_right_one_registers()
    {
        await using var server = await TestServer.StartAsync(c => c with { RegistrationToken = "letmein" });
        var (_, ask) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject { ["username"] = "b", ["password"] = Accounts.Password });
        var session = (string)ask!["session"]!;

        var (wrong, wrongBody) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("b", "guess", session));
        var (right, rightBody) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("b", "letmein", session));

        Assert.That((wrong, wrongBody.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That((string?)wrongBody!["session"], Is.EqualTo(session));
        Assert.That(right, Is.EqualTo(200));
        Assert.That((string?)rightBody!["user_id"], Is.EqualTo("@b:localhost"));
    }

    [Test]
    public async Task Validity_reports_the_configured_and_managed_tokens()
    {
        await using var server = await TestServer.StartAsync(c => c with { RegistrationToken = "letmein" });
        Tokens(server).Create("managed-1", usesAllowed: null, expiry: null);

        var (configured, configuredBody) = await server.SendAsync(HttpMethod.Get, $"{ValidityPath}?token=letmein");
        var (managed, managedBody) = await server.SendAsync(HttpMethod.Get, $"{ValidityPath}?token=managed-1");
        var (unknown, unknownBody) = await server.SendAsync(HttpMethod.Get, $"{ValidityPath}?token=nope");
        var (missing, missingBody) = await server.SendAsync(HttpMethod.Get, ValidityPath);

        Assert.That((configured, (bool?)configuredBody!["valid"]), Is.EqualTo((200, (bool?)true)));
        Assert.That((managed, (bool?)managedBody!["valid"]), Is.EqualTo((200, (bool?)true)));
        Assert.That((unknown, (bool?)unknownBody!["valid"]), Is.EqualTo((200, (bool?)false)));
        Assert.That((missing, missingBody.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
    }

    [Test]
    public async Task A_managed_token_switches_registration_to_tokens_and_counts_its_uses()
    {
        await using var server = await TestServer.StartAsync();
        var created = Tokens(server).Create(token: null, usesAllowed: 2, expiry: null);

        var (dummy, _) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject
        {
            ["username"] = "c0",
            ["password"] = Accounts.Password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        });
        var (first, _) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("c1", created.Token));
        var (second, _) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("c2", created.Token));
        var (third, thirdBody) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("c3", created.Token));

        Assert.That(created.Token, Does.Match("^[A-Za-z0-9]{16}$"));
        Assert.That(dummy, Is.EqualTo(401));
        Assert.That((first, second), Is.EqualTo((200, 200)));
        Assert.That((third, thirdBody.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        var listed = Tokens(server).List().Single();
        Assert.That((listed.Completed, listed.Valid), Is.EqualTo((2, false)));
        var (_, validity) = await server.SendAsync(HttpMethod.Get, $"{ValidityPath}?token={created.Token}");
        Assert.That((bool?)validity!["valid"], Is.False);
    }

    [Test]
    public async Task A_one_use_token_registers_exactly_one_of_many_concurrent_clients()
    {
        await using var server = await TestServer.StartAsync();
        var token = Tokens(server).Create("only-once", usesAllowed: 1, expiry: null).Token;

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest($"racer{i}", token))));

        Assert.That(results.Count(r => r.Status == 200), Is.EqualTo(1));
        Assert.That(results.Where(r => r.Status != 200).Select(r => (r.Status, r.Body.ErrCode())), Is.All.EqualTo((401, "M_FORBIDDEN")));
        Assert.That(Tokens(server).List().Single().Completed, Is.EqualTo(1));
    }

    [Test]
    public async Task An_expired_token_no_longer_registers()
    {
        await using var server = await TestServer.StartAsync();
        Tokens(server).Create("brief", usesAllowed: null, expiry: DateTimeOffset.UtcNow.AddMilliseconds(100));
        await Task.Delay(300);

        var (status, body) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("late", "brief"));

        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That(Tokens(server).List().Single().Valid, Is.False);
    }

    [Test]
    public async Task A_revoked_token_no_longer_registers_and_registration_stays_closed()
    {
        await using var server = await TestServer.StartAsync();
        Tokens(server).Create("revoke-me", usesAllowed: null, expiry: null);

        var revoked = Tokens(server).Revoke("revoke-me");
        var (status, body) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("d1", "revoke-me"));
        var (ask, askBody) = await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, new JsonObject { ["username"] = "d2", ["password"] = Accounts.Password });

        Assert.That(revoked, Is.True);
        Assert.That(Tokens(server).Revoke("never-existed"), Is.False);
        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_FORBIDDEN")));
        Assert.That(ask, Is.EqualTo(401));
        Assert.That(askBody!["flows"]!.AsArray().Select(f => (string?)f!["stages"]![0]), Is.EqualTo(TokenFlow));
        Assert.That(Tokens(server).List().Single().Revoked, Is.True);
    }

    [Test]
    public async Task Managed_tokens_survive_a_restart_with_their_use_counts()
    {
        await using var server = await TestServer.StartAsync();
        Tokens(server).Create("kept", usesAllowed: 2, expiry: null);
        await server.SendAsync(HttpMethod.Post, Accounts.RegisterPath, TokenRequest("e1", "kept"));

        await server.RestartAsync();

        var token = Tokens(server).List().Single();
        Assert.That((token.Token, token.UsesAllowed, token.Completed, token.Valid), Is.EqualTo(("kept", (int?)2, 1, true)));
    }

    [TestCase("has space")]
    [TestCase("slash/y")]
    public void A_token_outside_the_spec_alphabet_cannot_be_created(string token)
    {
        Assert.That(async () =>
        {
            await using var server = await TestServer.StartAsync();
            Tokens(server).Create(token, usesAllowed: null, expiry: null);
        }, Throws.TypeOf<Conduit.Net.Core.Errors.MatrixException>());
    }
}
