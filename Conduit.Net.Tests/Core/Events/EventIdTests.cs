using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Events;

/// <summary>
/// "Calculating the reference hash for an event" and the event ids room versions 3 and 4 derive from it;
/// the expected ids were computed independently (redaction, canonical JSON and SHA-256 by hand in Python).
/// </summary>
public sealed class EventIdTests
{
    private const string Message = """
        {
            "auth_events": ["$authA"], "content": {"body": "hello", "msgtype": "m.text"}, "depth": 5,
            "hashes": {"sha256": "qbhhSWdaTuHGKVxcBqwq1mqHb2ExzFWC0Kt7XRu1yOI"}, "origin": "example.org",
            "origin_server_ts": 1700000000000, "prev_events": ["$prevA"], "room_id": "!room:example.org",
            "sender": "@alice:example.org", "signatures": {"example.org": {"ed25519:1": "c2ln"}},
            "type": "m.room.message", "unsigned": {"age": 1}
        }
        """;

    private const string Create = """
        {
            "auth_events": [], "content": {"room_version": "12", "m.federate": true}, "depth": 1,
            "hashes": {"sha256": "qbhhSWdaTuHGKVxcBqwq1mqHb2ExzFWC0Kt7XRu1yOI"}, "origin_server_ts": 1700000000000,
            "prev_events": [], "sender": "@alice:example.org", "signatures": {"example.org": {"ed25519:1": "c2ln"}},
            "state_key": "", "type": "m.room.create"
        }
        """;

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Test]
    public void In_version_3_the_event_id_is_the_reference_hash_in_unpadded_base64()
    {
        var id = EventIds.Compute(Parse(Message), RoomVersion.V3);
        Assert.That(id.Value, Is.EqualTo("$rQRf6VTGPOe/isNYuTiisbRoKBvyJedQgANlEZHpY1I"));
    }

    [Test]
    public void In_version_4_the_event_id_is_the_reference_hash_in_url_safe_unpadded_base64()
    {
        var id = EventIds.Compute(Parse(Message), RoomVersion.V4);
        Assert.That(id.Value, Is.EqualTo("$rQRf6VTGPOe_isNYuTiisbRoKBvyJedQgANlEZHpY1I"));
    }

    [Test]
    public void The_version_3_and_4_ids_encode_the_same_hash()
    {
        var v3 = EventIds.Compute(Parse(Message), RoomVersion.V3).Value[1..];
        var v4 = EventIds.Compute(Parse(Message), RoomVersion.V4).Value[1..];
        Assert.That(v3, Has.Length.EqualTo(43));
        Assert.That(UnpaddedBase64.Decode(v3), Is.EqualTo(UnpaddedBase64.DecodeUrlSafe(v4)));
        Assert.That(UnpaddedBase64.Decode(v3), Is.EqualTo(EventIds.ReferenceHash(Parse(Message), RoomVersion.V3)));
    }

    [Test]
    public void From_version_11_origin_is_no_longer_covered_so_the_id_changes()
    {
        Assert.That(EventIds.Compute(Parse(Message), RoomVersion.V11).Value, Is.EqualTo("$-moy0uWfV0_RgEYk4Sv1VRHJQs5bq5Fm5MDyvYkc92Y"));
        Assert.That(EventIds.Compute(Parse(Message), RoomVersion.V10).Value, Is.EqualTo("$rQRf6VTGPOe_isNYuTiisbRoKBvyJedQgANlEZHpY1I"));
    }

    [Test]
    public void The_id_does_not_depend_on_key_order_whitespace_signatures_or_unsigned_data()
    {
        var expected = EventIds.Compute(Parse(Message), RoomVersion.V4);
        var reordered = new JsonObject();
        foreach (var (key, value) in Parse(Message).Reverse())
            reordered[key] = value?.DeepClone();
        reordered["signatures"] = JsonNode.Parse("""{"other.example": {"ed25519:x": "b3RoZXI"}}""");
        reordered["unsigned"] = JsonNode.Parse("""{"age": 99999, "age_ts": 5}""");
        reordered["age_ts"] = 123;

        Assert.That(EventIds.Compute(reordered, RoomVersion.V4), Is.EqualTo(expected));
        Assert.That(EventIds.Compute(Parse(Message), RoomVersion.V4), Is.EqualTo(expected));
    }

    [Test]
    public void The_reference_hash_covers_the_content_hash_not_the_redacted_content()
    {
        var expected = EventIds.Compute(Parse(Message), RoomVersion.V4);

        var otherBody = Parse(Message);
        otherBody["content"]!["body"] = "changed";
        Assert.That(EventIds.Compute(otherBody, RoomVersion.V4), Is.EqualTo(expected));

        var otherHash = Parse(Message);
        otherHash["hashes"]!["sha256"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        Assert.That(EventIds.Compute(otherHash, RoomVersion.V4), Is.Not.EqualTo(expected));
    }

    [Test]
    public void In_version_12_the_room_id_is_the_create_events_reference_hash_with_a_bang()
    {
        var create = Pdu.Parse(Parse(Create), RoomVersion.V12);
        Assert.That(create.RoomId.Value, Is.EqualTo("!RoGBN5KxDjDGsWcboetbAUUXFuXydrIq48XSj4c_Avo"));
        Assert.That(EventIds.RoomIdFromCreateEvent(create.EventId), Is.EqualTo(create.RoomId));
        Assert.That(EventIds.CreateEventIdOf(create.RoomId), Is.EqualTo(create.EventId));
    }

    [Test]
    public void Before_version_6_integers_beyond_2_pow_53_are_hashed_as_their_digits()
    {
        const string powerLevels = """
            {
                "auth_events": ["$authA"], "depth": 9223372036854775807, "origin_server_ts": 1700000000000,
                "content": {"ban": 50, "users": {"@alice:example.org": 123456789012345678901234567890}, "notifications": {"room": 5}},
                "hashes": {"sha256": "qbhhSWdaTuHGKVxcBqwq1mqHb2ExzFWC0Kt7XRu1yOI"}, "prev_events": ["$prevA"],
                "room_id": "!room:example.org", "sender": "@alice:example.org",
                "signatures": {"example.org": {"ed25519:1": "c2ln"}}, "state_key": "", "type": "m.room.power_levels"
            }
            """;
        var pdu = Pdu.Parse(Parse(powerLevels), RoomVersion.V5);
        Assert.That(pdu.EventId.Value, Is.EqualTo("$LhsbY6_931lpDekP25eFdn5UTU_Ht7U2Ry-Pn3ghtFg"));
        Assert.That(pdu.Depth, Is.EqualTo(long.MaxValue));

        var strict = Assert.Throws<PduFormatException>(() => Pdu.Parse(Parse(powerLevels), RoomVersion.V6));
        Assert.That(strict!.Problem, Is.EqualTo(PduFormatProblem.NotCanonicalJson));
    }

    [Test]
    public void A_server_scoped_room_id_names_no_create_event() =>
        Assert.Throws<ArgumentException>(() => EventIds.CreateEventIdOf(RoomId.Parse("!room:example.org")));

    [Test]
    public void Versions_1_and_2_take_the_event_id_from_the_event_and_have_no_derived_one()
    {
        Assert.Throws<InvalidOperationException>(() => EventIds.FromReferenceHash(new byte[32], RoomVersion.V2));

        var id = EventIds.NewServerScoped(ServerName.Parse("example.org"));
        Assert.That(id.Server?.Value, Is.EqualTo("example.org"));
        Assert.That(id.Value, Does.Match(@"^\$[A-Za-z0-9]{24}:example\.org$"));
        Assert.That(EventIds.NewServerScoped(ServerName.Parse("example.org")), Is.Not.EqualTo(id));
    }

    [Test]
    public void New_room_ids_before_version_12_are_random_and_scoped_to_the_server()
    {
        var id = EventIds.NewServerScopedRoomId(ServerName.Parse("localhost:8448"));
        Assert.That(id.Server?.Value, Is.EqualTo("localhost:8448"));
        Assert.That(id.Value, Does.Match(@"^![A-Za-z0-9]{24}:localhost:8448$"));
    }
}
