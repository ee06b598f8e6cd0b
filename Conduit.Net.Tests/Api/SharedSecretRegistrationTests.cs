using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Services.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Api;

/// <summary>Synapse's shared-secret registration at <c>/_synapse/admin/v1/register</c>, as register_new_matrix_user uses it.</summary>
public sealed class SharedSecretRegistrationTests
{
    private const string Path = "/_synapse/admin/v1/register";
    private const string Secret = "a long shared secret";

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync(c => c with { RegistrationSharedSecret = Secret });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    /// <summary>The MAC as Synapse's documentation computes it: HMAC-SHA1, hex, over NUL-separated fields.</summary>
    private static string Mac(string nonce, string user, string password, bool admin, string secret = Secret)
    {
#pragma warning disable CA5350 // The protocol under test fixes SHA-1.
        var mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{nonce}\0{user}\0{password}\0{(admin ? "admin" : "notadmin")}"));
#pragma warning restore CA5350
        return Convert.ToHexStringLower(mac);
    }

    private async Task<string> NonceAsync()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, Path);
        Assert.That(status, Is.EqualTo(200));
        return (string)body!["nonce"]!;
    }

    private static JsonObject Request(string nonce, string user, bool admin, string mac) => new()
    {
        ["nonce"] = nonce,
        ["username"] = user,
        ["password"] = Accounts.Password,
        ["admin"] = admin,
        ["mac"] = mac,
    };

    [Test]
    public async Task A_correctly_signed_request_creates_a_logged_in_account()
    {
        var nonce = await NonceAsync();
        var user = Accounts.UniqueName("ssadmin");

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path, Request(nonce, user, true, Mac(nonce, user, Accounts.Password, true)));

        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["user_id"], Is.EqualTo($"@{user}:localhost"));
        Assert.That((string?)body["home_server"], Is.EqualTo("localhost"));
        Assert.That((string?)body["device_id"], Is.Not.Empty);
        Assert.That((await _server.WhoAmIAsync((string)body["access_token"]!)).Status, Is.EqualTo(200));
        var summary = _server.Host.Services.GetRequiredService<UserService>().ListUsers().Single(u => u.UserId == $"@{user}:localhost");
        Assert.That(summary.Admin, Is.True);
        Assert.That((await _server.LoginRawAsync(user)).Status, Is.EqualTo(200));
    }

    [Test]
    public async Task A_nonce_is_good_for_one_request_only()
    {
        var nonce = await NonceAsync();
        var user = Accounts.UniqueName("ssonce");
        await _server.SendAsync(HttpMethod.Post, Path, Request(nonce, user, false, Mac(nonce, user, Accounts.Password, false)));
        var other = Accounts.UniqueName("ssagain");

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path, Request(nonce, other, false, Mac(nonce, other, Accounts.Password, false)));

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_UNKNOWN")));
    }

    [Test]
    public async Task An_unknown_nonce_is_400()
    {
        var user = Accounts.UniqueName("ssunknown");

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path, Request("made-up", user, false, Mac("made-up", user, Accounts.Password, false)));

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_UNKNOWN")));
    }

    [Test]
    public async Task A_wrong_mac_is_403_M_FORBIDDEN_and_creates_nothing()
    {
        var nonce = await NonceAsync();
        var user = Accounts.UniqueName("ssbadmac");

        var (wrongSecret, wrongBody) = await _server.SendAsync(HttpMethod.Post, Path, Request(nonce, user, false, Mac(nonce, user, Accounts.Password, false, "guessed")));
        var nonce2 = await NonceAsync();
        var (flipped, flippedBody) = await _server.SendAsync(HttpMethod.Post, Path, Request(nonce2, user, true, Mac(nonce2, user, Accounts.Password, false)));

        Assert.That((wrongSecret, wrongBody.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((flipped, flippedBody.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        var (available, _) = await _server.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/register/available?username={user}");
        Assert.That(available, Is.EqualTo(200));
    }

    [Test]
    public async Task A_missing_mac_is_400_M_BAD_JSON()
    {
        var nonce = await NonceAsync();

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path, new JsonObject { ["nonce"] = nonce, ["username"] = "x", ["password"] = "y" });

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task A_taken_name_is_M_USER_IN_USE()
    {
        var user = Accounts.UniqueName("sstaken");
        await _server.RegisterAsync(user);
        var nonce = await NonceAsync();

        var (status, body) = await _server.SendAsync(HttpMethod.Post, Path, Request(nonce, user, false, Mac(nonce, user, Accounts.Password, false)));

        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_USER_IN_USE")));
    }

    [Test]
    public async Task Without_a_configured_secret_the_api_is_off()
    {
        await using var server = await TestServer.StartAsync();

        var (nonce, nonceBody) = await server.SendAsync(HttpMethod.Get, Path);
        var (register, registerBody) = await server.SendAsync(HttpMethod.Post, Path, Request("n", "u", false, "00"));

        Assert.That((nonce, nonceBody.ErrCode()), Is.EqualTo((400, "M_UNKNOWN")));
        Assert.That((register, registerBody.ErrCode()), Is.EqualTo((400, "M_UNKNOWN")));
    }
}
