using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;

namespace Conduit.Net.Tests.Api.Federation;

/// <summary>
/// Server-server API "Publishing Keys": <c>GET /_matrix/key/v2/server</c> serves this server's key,
/// signed by that key, and the key is generated once and kept across restarts.
/// </summary>
public sealed class ServerKeysTests
{
    private const string ServerName = "keys.test:8448";

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync(c => c with { ServerName = ServerName });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task The_response_is_signed_by_the_key_it_publishes()
    {
        var keys = await GetKeysAsync("/_matrix/key/v2/server");

        Assert.That((string?)keys["server_name"], Is.EqualTo(ServerName));
        var verifyKeys = keys["verify_keys"]!.AsObject();
        Assert.That(verifyKeys, Has.Count.EqualTo(1));
        var (keyId, key) = verifyKeys.Single();
        Assert.That(keyId, Does.Match("^ed25519:[a-zA-Z0-9_]+$"));

        var verifyKey = VerifyKey.TryFromBase64(keyId, (string)key!["key"]!);
        Assert.That(verifyKey, Is.Not.Null, "the key is 32 bytes of unpadded base64");
        Assert.That(JsonSigning.Check(keys, ServerName, verifyKey!), Is.EqualTo(SignatureCheck.Valid));
    }

    [Test]
    public async Task Old_verify_keys_is_empty_while_the_key_has_never_changed()
    {
        var keys = await GetKeysAsync("/_matrix/key/v2/server");
        Assert.That(keys["old_verify_keys"]?.AsObject(), Is.Empty);
    }

    [Test]
    public async Task Valid_until_ts_is_in_the_future_and_at_most_a_week_ahead()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var keys = await GetKeysAsync("/_matrix/key/v2/server");
        var validUntil = (long)keys["valid_until_ts"]!;
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.That(validUntil, Is.GreaterThan(after));
        Assert.That(validUntil, Is.LessThanOrEqualTo(after + (long)TimeSpan.FromDays(7).TotalMilliseconds));
        Assert.That(validUntil, Is.GreaterThanOrEqualTo(before + (long)TimeSpan.FromDays(7).TotalMilliseconds));
    }

    [Test]
    public async Task The_legacy_key_id_path_serves_the_same_keys()
    {
        var keys = await GetKeysAsync("/_matrix/key/v2/server");
        var keyId = keys["verify_keys"]!.AsObject().Single().Key;
        var legacy = await GetKeysAsync($"/_matrix/key/v2/server/{Uri.EscapeDataString(keyId)}");

        Assert.That(legacy["verify_keys"]?.ToJsonString(), Is.EqualTo(keys["verify_keys"]?.ToJsonString()));
        Assert.That(JsonSigning.Verify(legacy, ServerName, VerifyKeyOf(keys)), Is.True);
    }

    [Test]
    public async Task The_response_is_JSON()
    {
        using var response = await _server.Http.GetAsync("/_matrix/key/v2/server");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
    }

    [Test]
    public async Task The_key_survives_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var (status, before) = await server.SendAsync(HttpMethod.Get, "/_matrix/key/v2/server");
        Assert.That(status, Is.EqualTo(200));

        await server.RestartAsync();
        var (_, after) = await server.SendAsync(HttpMethod.Get, "/_matrix/key/v2/server");

        Assert.That(after!["verify_keys"]!.ToJsonString(), Is.EqualTo(before!["verify_keys"]!.ToJsonString()));
        Assert.That(JsonSigning.Verify(after.AsObject(), "localhost", VerifyKeyOf(before.AsObject())), Is.True);
    }

    [Test]
    public async Task Each_new_server_generates_its_own_key()
    {
        await using var other = await TestServer.StartAsync(c => c with { ServerName = ServerName });
        var (_, otherKeys) = await other.SendAsync(HttpMethod.Get, "/_matrix/key/v2/server");
        var ours = await GetKeysAsync("/_matrix/key/v2/server");

        Assert.That(otherKeys!["verify_keys"]!.ToJsonString(), Is.Not.EqualTo(ours["verify_keys"]!.ToJsonString()));
        Assert.That(JsonSigning.Check(otherKeys.AsObject(), ServerName, VerifyKeyOf(ours)), Is.Not.EqualTo(SignatureCheck.Valid));
    }

    private async Task<JsonObject> GetKeysAsync(string path)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, path);
        Assert.That(status, Is.EqualTo(200));
        return body!.AsObject();
    }

    private static VerifyKey VerifyKeyOf(JsonObject keys)
    {
        var (keyId, key) = keys["verify_keys"]!.AsObject().Single();
        return VerifyKey.TryFromBase64(keyId, (string)key!["key"]!)!;
    }
}
