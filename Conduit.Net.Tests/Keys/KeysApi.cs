using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Json;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Keys;

/// <summary>A client's Ed25519 key as the tests hold it: the private half and the unpadded base64 public key.</summary>
internal sealed class TestKey : IDisposable
{
    public SigningKey Key { get; } = SigningKey.Generate("k");

    public string Public => Key.VerifyKey.PublicKeyBase64;

    /// <summary>Signs the object in place as <paramref name="userId"/> with the key id <c>ed25519:{name}</c>.</summary>
    public JsonObject Sign(JsonObject obj, string userId, string name)
    {
        var signature = Key.SignToBase64(CanonicalJson.EncodeExcluding(obj, "signatures", "unsigned"));
        if (obj["signatures"] is not JsonObject signatures)
            obj["signatures"] = signatures = [];
        if (signatures[userId] is not JsonObject byUser)
            signatures[userId] = byUser = [];
        byUser[$"ed25519:{name}"] = signature;
        return obj;
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>The key endpoints over HTTP, and the key objects clients upload, for the Keys tests.</summary>
internal static class KeysApi
{
    public const string UploadPath = "/_matrix/client/v3/keys/upload";
    public const string QueryPath = "/_matrix/client/v3/keys/query";
    public const string ClaimPath = "/_matrix/client/v3/keys/claim";
    public const string SigningUploadPath = "/_matrix/client/v3/keys/device_signing/upload";
    public const string SignaturesUploadPath = "/_matrix/client/v3/keys/signatures/upload";

    /// <summary>Device keys for the session's device, self-signed with <paramref name="key"/> as a real client does.</summary>
    public static JsonObject DeviceKeys(TestSession session, TestKey key, string curve = "curve-key") => key.Sign(new JsonObject
    {
        ["user_id"] = session.UserId,
        ["device_id"] = session.DeviceId,
        ["algorithms"] = new JsonArray("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"),
        ["keys"] = new JsonObject
        {
            [$"curve25519:{session.DeviceId}"] = curve,
            [$"ed25519:{session.DeviceId}"] = key.Public,
        },
    }, session.UserId, session.DeviceId);

    /// <summary><c>count</c> signed_curve25519 one-time keys with ids <c>{prefix}{i}</c>.</summary>
    public static JsonObject OneTimeKeys(string prefix, int count, int first = 0)
    {
        var keys = new JsonObject();
        for (var i = first; i < first + count; i++)
            keys[$"signed_curve25519:{prefix}{i}"] = new JsonObject { ["key"] = $"otk-{prefix}{i}" };
        return keys;
    }

    /// <summary>A cross-signing key of <paramref name="usage"/> for the user, signed by <paramref name="signer"/> if given.</summary>
    public static JsonObject CrossSigningKey(string userId, string usage, TestKey key, TestKey? signer = null)
    {
        var obj = new JsonObject
        {
            ["user_id"] = userId,
            ["usage"] = new JsonArray(usage),
            ["keys"] = new JsonObject { [$"ed25519:{key.Public}"] = key.Public },
        };
        return signer is null ? obj : signer.Sign(obj, userId, signer.Public);
    }

    public static async Task<JsonNode> UploadAsync(this TestServer server, TestSession session, JsonObject body)
    {
        var (status, response) = await server.SendAsync(HttpMethod.Post, UploadPath, body, session.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return response!;
    }

    public static async Task<JsonNode> QueryAsync(this TestServer server, TestSession session, JsonObject deviceKeys)
    {
        var (status, response) = await server.SendAsync(HttpMethod.Post, QueryPath, new JsonObject { ["device_keys"] = deviceKeys }, session.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return response!;
    }

    public static async Task<JsonNode> ClaimAsync(this TestServer server, TestSession session, JsonObject oneTimeKeys)
    {
        var (status, response) = await server.SendAsync(HttpMethod.Post, ClaimPath, new JsonObject { ["one_time_keys"] = oneTimeKeys }, session.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return response!;
    }

    /// <summary>Claims one signed_curve25519 key of the device and returns the key id handed out, or null.</summary>
    public static async Task<string?> ClaimOneAsync(this TestServer server, TestSession claimer, TestSession owner)
    {
        var response = await server.ClaimAsync(claimer, new JsonObject
        {
            [owner.UserId] = new JsonObject { [owner.DeviceId] = "signed_curve25519" },
        });
        return (response["one_time_keys"]?[owner.UserId]?[owner.DeviceId] as JsonObject)?.Single().Key;
    }
}
