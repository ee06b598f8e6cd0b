using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Events;

/// <summary>
/// The appendix's "Event Signing" vector (seed <c>YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1</c>, server
/// <c>domain</c>, key <c>ed25519:1</c>): its content hash, its redacted form and its signature, made
/// through the room version's redaction algorithm.
/// </summary>
public sealed class EventSigningTests
{
    private const string Unsigned = """
        {
            "content": {"body": "Here is the message content"}, "event_id": "$0:domain", "origin": "domain",
            "origin_server_ts": 1000000, "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
            "signatures": {}, "unsigned": {"age_ts": 1000000}
        }
        """;

    private const string Signed = """
        {
            "content": {"body": "Here is the message content"}, "event_id": "$0:domain",
            "hashes": {"sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"}, "origin": "domain",
            "origin_server_ts": 1000000, "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
            "signatures": {"domain": {"ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"}},
            "unsigned": {"age_ts": 1000000}
        }
        """;

    private static SigningKey SpecKey() => SigningKey.FromSeed("1", UnpaddedBase64.Decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"));

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static string Canonical(JsonNode node) => Encoding.UTF8.GetString(CanonicalJson.Encode(node));

    [Test]
    public void The_redacted_message_keeps_the_essential_keys_and_an_empty_content()
    {
        var redacted = Redaction.Redact(Parse(Signed), RoomVersion.V1);
        Assert.That(Canonical(redacted), Is.EqualTo(
            """{"content":{},"event_id":"$0:domain","hashes":{"sha256":"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},"origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","signatures":{"domain":{"ed25519:1":"Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"}},"type":"m.room.message"}"""));
    }

    [Test]
    public void Hashing_and_signing_the_message_gives_the_spec_event()
    {
        using var key = SpecKey();
        var pdu = EventHashes.AddContentHash(Parse(Unsigned));
        Assert.That((string?)pdu["hashes"]?["sha256"], Is.EqualTo("onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"));

        EventSigning.AddSignature(pdu, RoomVersion.V1, "domain", key);
        Assert.That(Canonical(pdu), Is.EqualTo(Canonical(Parse(Signed))));
    }

    [Test]
    public void The_spec_signature_checks_on_the_full_and_on_the_redacted_event()
    {
        using var key = SpecKey();
        Assert.That(EventSigning.Check(Parse(Signed), RoomVersion.V1, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        var redacted = Redaction.Redact(Parse(Signed), RoomVersion.V1);
        Assert.That(EventSigning.Check(redacted, RoomVersion.V1, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
    }

    [Test]
    public void A_changed_body_keeps_the_signature_but_breaks_the_content_hash()
    {
        using var key = SpecKey();
        var tampered = Parse(Signed);
        tampered["content"]!["body"] = "Something else";
        Assert.That(EventSigning.Check(tampered, RoomVersion.V1, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(EventHashes.HasValidContentHash(tampered), Is.False);
    }

    [Test]
    public void A_changed_essential_key_breaks_the_signature()
    {
        using var key = SpecKey();
        var tampered = Parse(Signed);
        tampered["sender"] = "@mallory:domain";
        Assert.That(EventSigning.Check(tampered, RoomVersion.V1, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.BadSignature));
    }

    [Test]
    public void From_version_11_origin_is_not_signed()
    {
        using var key = SpecKey();
        var pdu = EventSigning.AddSignature(EventHashes.AddContentHash(Parse(Unsigned)), RoomVersion.V11, "domain", key);
        pdu["origin"] = "elsewhere";
        Assert.That(EventSigning.Check(pdu, RoomVersion.V11, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(EventSigning.Check(pdu, RoomVersion.V10, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.BadSignature));
    }

    [Test]
    public void A_second_server_signature_is_added_next_to_the_first()
    {
        using var key = SpecKey();
        using var other = SigningKey.Generate("x");
        var pdu = Parse(Signed);
        EventSigning.AddSignature(pdu, RoomVersion.V1, "other.example", other);
        Assert.That(EventSigning.Check(pdu, RoomVersion.V1, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(EventSigning.Check(pdu, RoomVersion.V1, "other.example", other.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
    }

    [Test]
    public void Events_of_versions_1_to_5_with_integers_beyond_2_pow_53_can_be_hashed_signed_and_checked()
    {
        using var key = SpecKey();
        var pdu = Parse(Unsigned);
        pdu["depth"] = long.MaxValue;
        pdu["hashes"] = new JsonObject { ["sha256"] = UnpaddedBase64.Encode(EventHashes.ContentHash(pdu, RoomVersion.V5.JsonNumbers)) };
        EventSigning.AddSignature(pdu, RoomVersion.V5, "domain", key);

        Assert.That(EventHashes.HasValidContentHash(pdu, RoomVersion.V5.JsonNumbers), Is.True);
        Assert.That(EventHashes.HasValidContentHash(pdu), Is.False);
        Assert.That(EventSigning.Check(pdu, RoomVersion.V5, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(EventSigning.Check(pdu, RoomVersion.V6, "domain", key.VerifyKey), Is.EqualTo(SignatureCheck.NotCanonical));
    }
}
