using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core;

/// <summary>
/// The appendix's "Cryptographic Test Vectors": the seed <c>YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1</c>,
/// server name <c>domain</c>, key id <c>ed25519:1</c>; JSON signing, event signing with content hashes,
/// and verification that fails on any tampering.
/// </summary>
public sealed class SigningTests
{
    private const string Seed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
    private const string Domain = "domain";

    private static readonly object[] JsonVectors =
    [
        new object[]
        {
            "{}",
            """{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}""",
        },
        new object[]
        {
            """{ "one": 1, "two": "Two" }""",
            """{"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}""",
        },
    ];

    /// <summary>The two events of "Event Signing": input, expected content hash, expected signed event.</summary>
    private static readonly object[] EventVectors =
    [
        new object[]
        {
            """
            {
                "room_id": "!x:domain", "sender": "@a:domain", "origin": "domain", "origin_server_ts": 1000000,
                "signatures": {}, "hashes": {}, "type": "X", "content": {}, "prev_events": [], "auth_events": [],
                "depth": 3, "unsigned": { "age_ts": 1000000 }
            }
            """,
            "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos",
            """
            {
                "auth_events": [], "content": {}, "depth": 3,
                "hashes": { "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos" },
                "origin": "domain", "origin_server_ts": 1000000, "prev_events": [], "room_id": "!x:domain",
                "sender": "@a:domain",
                "signatures": { "domain": { "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg" } },
                "type": "X", "unsigned": { "age_ts": 1000000 }
            }
            """,
        },
        new object[]
        {
            """
            {
                "content": { "body": "Here is the message content" }, "event_id": "$0:domain", "origin": "domain",
                "origin_server_ts": 1000000, "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
                "signatures": {}, "unsigned": { "age_ts": 1000000 }
            }
            """,
            "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g",
            """
            {
                "content": { "body": "Here is the message content" }, "event_id": "$0:domain",
                "hashes": { "sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g" },
                "origin": "domain", "origin_server_ts": 1000000, "type": "m.room.message", "room_id": "!r:domain",
                "sender": "@u:domain",
                "signatures": { "domain": { "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA" } },
                "unsigned": { "age_ts": 1000000 }
            }
            """,
        },
    ];

    private static SigningKey SpecKey() => SigningKey.FromSeed("1", UnpaddedBase64.Decode(Seed));

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static string Canonical(JsonNode node) => Encoding.UTF8.GetString(CanonicalJson.Encode(node));

    [TestCaseSource(nameof(JsonVectors))]
    public void Signing_the_vector_gives_the_spec_signature(string input, string expected)
    {
        using var key = SpecKey();
        var signed = JsonSigning.Sign(Parse(input), Domain, key);
        Assert.That(Canonical(signed), Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(JsonVectors))]
    public void The_spec_signature_verifies_with_the_key_from_the_seed(string input, string expected)
    {
        using var key = SpecKey();
        Assert.That(JsonSigning.Check(Parse(expected), Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
    }

    [TestCaseSource(nameof(EventVectors))]
    public void Event_content_hash_matches_the_spec(string input, string contentHash, string signedEvent)
    {
        Assert.That(UnpaddedBase64.Encode(EventHashes.ContentHash(Parse(input))), Is.EqualTo(contentHash));
        Assert.That(EventHashes.HasValidContentHash(Parse(signedEvent)), Is.True);
    }

    [TestCaseSource(nameof(EventVectors))]
    public void Event_signing_gives_the_spec_event(string input, string contentHash, string signedEvent)
    {
        using var key = SpecKey();
        var pdu = EventHashes.AddContentHash(Parse(input));

        // Per "Adding hashes and signatures to outgoing events": sign the redacted event, copy the signature back.
        // The vectors predate room version 11 and were signed over the original redaction algorithm.
        var redacted = Redaction.Redact(pdu, RoomVersion.V1);
        JsonSigning.Sign(redacted, Domain, key);
        pdu["signatures"] = redacted["signatures"]!.DeepClone();

        Assert.That(Canonical(pdu), Is.EqualTo(Canonical(Parse(signedEvent))));
        Assert.That(JsonSigning.Verify(Redaction.Redact(Parse(signedEvent), RoomVersion.V1), Domain, key.VerifyKey), Is.True);
    }

    [Test]
    public void Tampering_with_a_signed_field_fails_verification()
    {
        using var key = SpecKey();
        var signed = JsonSigning.Sign(Parse("""{"one": 1, "two": "Two"}"""), Domain, key);
        signed["two"] = "Three";
        Assert.That(JsonSigning.Check(signed, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.BadSignature));
        Assert.That(JsonSigning.Verify(signed, Domain, key.VerifyKey), Is.False);
    }

    [Test]
    public void Adding_a_field_fails_verification()
    {
        using var key = SpecKey();
        var signed = Parse((string)((object[])JsonVectors[0])[1]);
        signed["extra"] = true;
        Assert.That(JsonSigning.Verify(signed, Domain, key.VerifyKey), Is.False);
    }

    [Test]
    public void A_flipped_signature_bit_fails_verification()
    {
        using var key = SpecKey();
        var signed = JsonSigning.Sign(Parse("""{"one": 1}"""), Domain, key);
        var signature = UnpaddedBase64.Decode((string)signed["signatures"]![Domain]!["ed25519:1"]!);
        signature[10] ^= 1;
        signed["signatures"]![Domain]!["ed25519:1"] = UnpaddedBase64.Encode(signature);
        Assert.That(JsonSigning.Check(signed, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.BadSignature));
    }

    [Test]
    public void Unsigned_data_is_not_covered_by_the_signature()
    {
        using var key = SpecKey();
        var signed = JsonSigning.Sign(Parse("""{"one": 1, "unsigned": {"age": 1}}"""), Domain, key);
        signed["unsigned"] = new JsonObject { ["age"] = 99, ["extra"] = "x" };
        Assert.That(JsonSigning.Check(signed, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(signed["unsigned"]?["extra"]?.GetValue<string>(), Is.EqualTo("x"));
    }

    [Test]
    public void A_missing_signature_fails_verification()
    {
        using var key = SpecKey();
        Assert.That(JsonSigning.Check(Parse("""{"one": 1}"""), Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.NotSignedByEntity));
        Assert.That(JsonSigning.Check(Parse("""{"one": 1, "signatures": {}}"""), Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.NotSignedByEntity));
        Assert.That(JsonSigning.Check(Parse("""{"one": 1, "signatures": {"domain": {}}}"""), Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.NotSignedWithKey));
    }

    [Test]
    public void A_signature_by_another_entity_does_not_count()
    {
        using var key = SpecKey();
        var signed = JsonSigning.Sign(Parse("""{"one": 1}"""), "other.example", key);
        Assert.That(JsonSigning.Check(signed, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.NotSignedByEntity));
    }

    [Test]
    public void The_wrong_key_under_the_same_key_id_fails_verification()
    {
        using var key = SpecKey();
        using var impostor = SigningKey.Generate("1");
        var signed = JsonSigning.Sign(Parse("""{"one": 1}"""), Domain, impostor);
        Assert.That(JsonSigning.Check(signed, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.BadSignature));
    }

    [Test]
    public void A_signature_that_is_not_base64_is_malformed()
    {
        using var key = SpecKey();
        var obj = Parse("""{"signatures": {"domain": {"ed25519:1": "not base64!"}}}""");
        Assert.That(JsonSigning.Check(obj, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.MalformedSignature));
        obj["signatures"]![Domain]!["ed25519:1"] = 5;
        Assert.That(JsonSigning.Check(obj, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.MalformedSignature));
    }

    [Test]
    public void An_object_with_a_float_cannot_be_verified()
    {
        using var key = SpecKey();
        var obj = Parse("""{"x": 1.5, "signatures": {"domain": {"ed25519:1": "AAAA"}}}""");
        Assert.That(JsonSigning.Check(obj, Domain, key.VerifyKey), Is.EqualTo(SignatureCheck.NotCanonical));
        Assert.Throws<CanonicalJsonException>(() => JsonSigning.Sign(Parse("""{"x": 1.5}"""), Domain, key));
    }

    [Test]
    public void EnsureSigned_throws_saying_what_is_wrong()
    {
        using var key = SpecKey();
        var error = Assert.Throws<SignatureException>(() => JsonSigning.EnsureSigned(Parse("{}"), Domain, key.VerifyKey));
        Assert.That(error!.Result, Is.EqualTo(SignatureCheck.NotSignedByEntity));
        Assert.That(error.Message, Does.Contain("no signature from domain"));
        Assert.DoesNotThrow(() => JsonSigning.EnsureSigned(Parse((string)((object[])JsonVectors[1])[1]), Domain, key.VerifyKey));
    }

    [Test]
    public void Signing_keeps_existing_signatures()
    {
        using var first = SpecKey();
        using var second = SigningKey.Generate("2");
        var obj = JsonSigning.Sign(Parse("""{"one": 1, "signatures": {"elsewhere": {"ed25519:x": "abc"}}}"""), Domain, first);
        JsonSigning.Sign(obj, Domain, second);

        Assert.That(obj["signatures"]?["elsewhere"]?["ed25519:x"]?.GetValue<string>(), Is.EqualTo("abc"));
        Assert.That(JsonSigning.Verify(obj, Domain, first.VerifyKey), Is.True);
        Assert.That(JsonSigning.Verify(obj, Domain, second.VerifyKey), Is.True);
    }

    [Test]
    public void A_key_rebuilt_from_its_exported_seed_is_the_same_key()
    {
        using var key = SigningKey.Generate("abc_123");
        var seed = key.ExportSeed();
        using var restored = SigningKey.FromSeed(key.Version, seed);

        Assert.That(seed, Has.Length.EqualTo(32));
        Assert.That(restored.VerifyKey.PublicKeyBase64, Is.EqualTo(key.VerifyKey.PublicKeyBase64));
        Assert.That(restored.KeyId, Is.EqualTo("ed25519:abc_123"));
        var signed = JsonSigning.Sign(Parse("""{"a": 1}"""), "example.org", restored);
        Assert.That(JsonSigning.Verify(signed, "example.org", key.VerifyKey), Is.True);
    }

    [Test]
    public void The_spec_seed_round_trips()
    {
        using var key = SpecKey();
        Assert.That(key.ExportSeed(), Is.EqualTo(UnpaddedBase64.Decode(Seed)));
        Assert.That(key.KeyId, Is.EqualTo("ed25519:1"));
        Assert.That(UnpaddedBase64.Decode(key.VerifyKey.PublicKeyBase64), Has.Length.EqualTo(32));
    }

    [TestCase("")]
    [TestCase("a:b")]
    [TestCase("a-b")]
    [TestCase("ä")]
    public void Key_versions_outside_the_spec_characters_are_refused(string version)
    {
        Assert.That(SigningKey.IsValidVersion(version), Is.False);
        Assert.Throws<ArgumentException>(() => SigningKey.Generate(version));
    }

    [Test]
    public void New_versions_are_valid_and_differ()
    {
        var first = SigningKey.NewVersion();
        var second = SigningKey.NewVersion();
        Assert.That(first, Does.Match("^[a-zA-Z0-9_]+$"));
        Assert.That(first, Is.Not.EqualTo(second));
    }

    [Test]
    public void A_published_key_parses_from_base64()
    {
        using var key = SpecKey();
        var parsed = VerifyKey.TryFromBase64("ed25519:1", key.VerifyKey.PublicKeyBase64);
        Assert.That(parsed, Is.Not.Null);
        Assert.That(JsonSigning.Verify(Parse((string)((object[])JsonVectors[0])[1]), Domain, parsed!), Is.True);
        Assert.That(VerifyKey.TryFromBase64("ed25519:1", "AAAA"), Is.Null);
        Assert.That(VerifyKey.TryFromBase64("curve25519:1", key.VerifyKey.PublicKeyBase64), Is.Null);
    }

    [Test]
    public void A_changed_event_no_longer_matches_its_content_hash()
    {
        var pdu = Parse((string)((object[])EventVectors[1])[2]);
        pdu["content"]!["body"] = "Something else";
        Assert.That(EventHashes.HasValidContentHash(pdu), Is.False);
        pdu.Remove("hashes");
        Assert.That(EventHashes.HasValidContentHash(pdu), Is.False);
    }
}
