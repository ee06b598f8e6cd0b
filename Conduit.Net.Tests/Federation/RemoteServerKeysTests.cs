using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.ServerKeys;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// "Retrieving server keys": a server's self-signed publishing-keys object is verified before its keys
/// are trusted, <c>valid_until_ts</c> is capped at a week, and old keys vouch only for what was signed
/// before they expired.
/// </summary>
public sealed class RemoteServerKeysTests
{
    private static readonly long Day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync(c => c with { AllowFederation = false });

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private RemoteServerKeys Keys => _server.Host.Services.GetRequiredService<RemoteServerKeys>();

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Test]
    public async Task Our_own_key_is_known_without_fetching()
    {
        var own = _server.Host.Services.GetRequiredService<ServerKeyService>().SigningKey;
        var found = await Keys.FindVerifyKeyAsync(_server.Config.ServerName, own.KeyId, Now, CancellationToken.None);
        Assert.That(found, Is.EqualTo(own.VerifyKey.PublicKey.ToArray()));
    }

    [Test]
    public async Task A_verified_key_is_found_while_valid_and_not_after_valid_until_ts()
    {
        using var key = SigningKey.Generate("a1");
        var validUntil = Now + Day;
        Keys.StorePublishedKeys(Publish("valid.test", key, validUntil));

        Assert.That(await Find("valid.test", key.KeyId, Now), Is.EqualTo(key.VerifyKey.PublicKey.ToArray()));
        Assert.That(await Find("valid.test", key.KeyId, validUntil + 1), Is.Null);
        Assert.That(await Find("valid.test", "ed25519:other", Now), Is.Null);
        Assert.That(await Find("unknown.test", key.KeyId, Now), Is.Null);
    }

    [Test]
    public async Task Valid_until_ts_is_capped_at_seven_days_ahead()
    {
        using var key = SigningKey.Generate("far");
        Keys.StorePublishedKeys(Publish("far.test", key, Now + 365 * Day));

        Assert.That(await Find("far.test", key.KeyId, Now + 6 * Day), Is.Not.Null);
        Assert.That(await Find("far.test", key.KeyId, Now + 8 * Day), Is.Null);
    }

    [Test]
    public async Task An_old_key_vouches_for_what_was_signed_before_it_expired()
    {
        using var current = SigningKey.Generate("new");
        using var old = SigningKey.Generate("old");
        var expired = Now - 10 * Day;
        var keys = Publish("rotated.test", current, Now + Day, sign: false);
        keys["old_verify_keys"] = new JsonObject
        {
            [old.KeyId] = new JsonObject { ["key"] = old.VerifyKey.PublicKeyBase64, ["expired_ts"] = expired },
        };
        Keys.StorePublishedKeys(JsonSigning.Sign(keys, "rotated.test", current));

        Assert.That(await Find("rotated.test", old.KeyId, expired - Day), Is.EqualTo(old.VerifyKey.PublicKey.ToArray()));
        Assert.That(await Find("rotated.test", old.KeyId, expired + 1), Is.Null);
    }

    [Test]
    public async Task A_stale_copy_does_not_shorten_a_fresher_validity()
    {
        using var key = SigningKey.Generate("k");
        Keys.StorePublishedKeys(Publish("fresh.test", key, Now + 3 * Day));
        Keys.StorePublishedKeys(Publish("fresh.test", key, Now + Day));

        Assert.That(await Find("fresh.test", key.KeyId, Now + 2 * Day), Is.Not.Null);
        Assert.That((long?)Keys.PublishedKeys("fresh.test")?["valid_until_ts"], Is.GreaterThan(Now + 2 * Day));
    }

    [Test]
    public async Task Cached_keys_survive_a_restart()
    {
        await using var server = await TestServer.StartAsync(c => c with { AllowFederation = false });
        using var key = SigningKey.Generate("kept");
        server.Host.Services.GetRequiredService<RemoteServerKeys>().StorePublishedKeys(Publish("kept.test", key, Now + Day));

        await server.RestartAsync();

        var found = await server.Host.Services.GetRequiredService<RemoteServerKeys>().FindVerifyKeyAsync("kept.test", key.KeyId, Now, CancellationToken.None);
        Assert.That(found, Is.EqualTo(key.VerifyKey.PublicKey.ToArray()));
    }

    [Test]
    public void Keys_signed_by_another_key_are_401_M_UNAUTHORIZED()
    {
        using var key = SigningKey.Generate("k");
        using var impostor = SigningKey.Generate("k");
        var keys = Publish("forged.test", key, Now + Day, sign: false);

        var error = Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(JsonSigning.Sign(keys, "forged.test", impostor)));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.Unauthorized));
    }

    [Test]
    public void Unsigned_keys_and_keys_signed_for_another_server_are_refused()
    {
        using var key = SigningKey.Generate("k");
        var unsigned = Publish("unsigned.test", key, Now + Day, sign: false);
        var otherEntity = JsonSigning.Sign(Publish("entity.test", key, Now + Day, sign: false), "elsewhere.test", key);

        Assert.That(Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(unsigned))!.Code, Is.EqualTo(ErrorCode.Unauthorized));
        Assert.That(Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(otherEntity))!.Code, Is.EqualTo(ErrorCode.Unauthorized));
    }

    [Test]
    public void A_tampered_object_is_refused_and_nothing_is_cached()
    {
        using var key = SigningKey.Generate("k");
        var keys = Publish("tampered.test", key, Now + Day);
        keys["valid_until_ts"] = Now + 2 * Day;

        Assert.That(Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(keys))!.Code, Is.EqualTo(ErrorCode.Unauthorized));
        Assert.That(Keys.PublishedKeys("tampered.test"), Is.Null);
    }

    [TestCase("server_name")]
    [TestCase("valid_until_ts")]
    [TestCase("verify_keys")]
    public void A_publishing_object_without_a_required_field_is_M_INVALID_PARAM(string field)
    {
        using var key = SigningKey.Generate("k");
        var keys = Publish("partial.test", key, Now + Day, sign: false);
        keys.Remove(field);

        var error = Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(JsonSigning.Sign(keys, "partial.test", key)));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }

    [Test]
    public void A_key_that_is_not_32_bytes_is_M_INVALID_PARAM()
    {
        using var key = SigningKey.Generate("k");
        var keys = Publish("short.test", key, Now + Day, sign: false);
        keys["verify_keys"]![key.KeyId]!["key"] = "AAAA";

        var error = Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(JsonSigning.Sign(keys, "short.test", key)));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }

    [TestCase("ed25519:has-dash")]
    [TestCase("ed25519:")]
    public void A_key_id_that_is_not_ed25519_and_a_version_is_M_INVALID_PARAM(string keyId)
    {
        using var key = SigningKey.Generate("k");
        var keys = Publish("badid.test", key, Now + Day, sign: false);
        keys["verify_keys"]![keyId] = new JsonObject { ["key"] = key.VerifyKey.PublicKeyBase64 };

        var error = Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(JsonSigning.Sign(keys, "badid.test", key)));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }

    [Test]
    public void An_over_long_key_id_is_M_INVALID_PARAM_not_a_store_error()
    {
        using var key = SigningKey.Generate(new string('a', 2000));
        var keys = Publish("longid.test", key, Now + Day);

        var error = Assert.Throws<MatrixException>(() => Keys.StorePublishedKeys(keys));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }

    private Task<byte[]?> Find(string server, string keyId, long ts) =>
        Keys.FindVerifyKeyAsync(server, keyId, ts, CancellationToken.None).AsTask();

    private static JsonObject Publish(string serverName, SigningKey key, long validUntilTs, bool sign = true)
    {
        var keys = new JsonObject
        {
            ["server_name"] = serverName,
            ["verify_keys"] = new JsonObject { [key.KeyId] = new JsonObject { ["key"] = key.VerifyKey.PublicKeyBase64 } },
            ["old_verify_keys"] = new JsonObject(),
            ["valid_until_ts"] = validUntilTs,
        };
        return sign ? JsonSigning.Sign(keys, serverName, key) : keys;
    }
}
