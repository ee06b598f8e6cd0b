using System.Text.Json.Nodes;

namespace Conduit.Net.Tests.Api;

/// <summary>A logged-in client session as the tests hold it.</summary>
internal sealed record TestSession(string UserId, string AccessToken, string DeviceId);

/// <summary>Registering and logging in over HTTP, for tests whose subject is something else.</summary>
internal static class Accounts
{
    public const string Password = "correct horse battery staple";

    public const string RegisterPath = "/_matrix/client/v3/register";
    public const string LoginPath = "/_matrix/client/v3/login";
    public const string WhoAmIPath = "/_matrix/client/v3/account/whoami";

    private static int _counter;

    /// <summary>A localpart no other test in this run uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}{Interlocked.Increment(ref _counter)}";

    /// <summary>Registers through the dummy flow in one request and returns the new session.</summary>
    public static async Task<TestSession> RegisterAsync(this TestServer server, string username, string password = Password, JsonObject? extra = null)
    {
        var body = new JsonObject
        {
            ["username"] = username,
            ["password"] = password,
            ["auth"] = new JsonObject { ["type"] = "m.login.dummy" },
        };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        var (status, json) = await server.SendAsync(HttpMethod.Post, RegisterPath, body);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return new TestSession((string)json!["user_id"]!, (string)json["access_token"]!, (string)json["device_id"]!);
    }

    /// <summary>Logs in with <c>m.login.password</c> and an <c>m.id.user</c> identifier.</summary>
    public static Task<(int Status, JsonNode? Body)> LoginRawAsync(this TestServer server, string user, string password = Password, JsonObject? extra = null)
    {
        var body = new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = user },
            ["password"] = password,
        };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        return server.SendAsync(HttpMethod.Post, LoginPath, body);
    }

    public static async Task<TestSession> LoginAsync(this TestServer server, string user, string password = Password, JsonObject? extra = null)
    {
        var (status, json) = await server.LoginRawAsync(user, password, extra);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        return new TestSession((string)json!["user_id"]!, (string)json["access_token"]!, (string)json["device_id"]!);
    }

    /// <summary>The status of <c>/account/whoami</c> with this token: 200 while the token works.</summary>
    public static async Task<(int Status, JsonNode? Body)> WhoAmIAsync(this TestServer server, string accessToken) =>
        await server.SendAsync(HttpMethod.Get, WhoAmIPath, accessToken: accessToken);

    /// <summary>An <c>m.login.password</c> auth dict for user-interactive auth.</summary>
    public static JsonObject PasswordAuth(string userId, string password = Password, string? session = null)
    {
        var auth = new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = userId },
            ["password"] = password,
        };
        if (session is not null)
            auth["session"] = session;
        return auth;
    }

    public static string? ErrCode(this JsonNode? body) => (string?)body?["errcode"];
}
