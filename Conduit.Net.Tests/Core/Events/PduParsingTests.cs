using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Events;

/// <summary>
/// Reading PDUs against the event format of each room version (the <c>pdu_v1</c> .. <c>pdu_v12</c>
/// schemas): what is required, the shape of <c>prev_events</c>/<c>auth_events</c>, ids and limits.
/// </summary>
public sealed class PduParsingTests
{
    private const string Hash = "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos";

    internal static JsonObject Event(RoomVersion version, string type = "m.room.message", string? stateKey = null)
    {
        var pairs = version.EventReferenceFormat == EventReferenceFormat.IdAndHashPairs;
        JsonNode Reference(string id) => pairs ? new JsonArray(id, new JsonObject { ["sha256"] = Hash }) : id;
        var roomId = version.RoomIdFormat == RoomIdFormat.CreateEventHash ? "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ" : "!room:example.org";
        var json = new JsonObject
        {
            ["room_id"] = roomId,
            ["sender"] = "@alice:example.org",
            ["type"] = type,
            ["content"] = new JsonObject { ["body"] = "hello" },
            ["origin_server_ts"] = 1_700_000_000_000,
            ["depth"] = 7,
            ["prev_events"] = new JsonArray(Reference(pairs ? "$prev:example.org" : "$prevEventHashAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            ["auth_events"] = new JsonArray(Reference(pairs ? "$auth:example.org" : "$authEventHashAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            ["hashes"] = new JsonObject { ["sha256"] = Hash },
            ["signatures"] = new JsonObject { ["example.org"] = new JsonObject { ["ed25519:1"] = "c2lnbmF0dXJl" } },
            ["unsigned"] = new JsonObject { ["age"] = 5 },
        };
        if (pairs)
            json["event_id"] = "$abc123:example.org";
        if (stateKey is not null)
            json["state_key"] = stateKey;
        return json;
    }

    private static PduFormatException Refused(JsonObject json, RoomVersion version) =>
        Assert.Throws<PduFormatException>(() => Pdu.Parse(json, version))!;

    [Test]
    public void A_version_1_event_carries_its_own_event_id()
    {
        var pdu = Pdu.Parse(Event(RoomVersion.V1), RoomVersion.V1);
        Assert.That(pdu.EventId.Value, Is.EqualTo("$abc123:example.org"));
        Assert.That(pdu.PrevEvents.Single().Value, Is.EqualTo("$prev:example.org"));
        Assert.That(pdu.AuthEvents.Single().Value, Is.EqualTo("$auth:example.org"));
    }

    [Test]
    public void The_header_fields_are_read()
    {
        var pdu = Pdu.Parse(Event(RoomVersion.V10, "m.room.topic", ""), RoomVersion.V10);
        Assert.Multiple(() =>
        {
            Assert.That(pdu.RoomId.Value, Is.EqualTo("!room:example.org"));
            Assert.That(pdu.Sender.Value, Is.EqualTo("@alice:example.org"));
            Assert.That(pdu.Type, Is.EqualTo("m.room.topic"));
            Assert.That(pdu.StateKey, Is.EqualTo(""));
            Assert.That(pdu.IsState, Is.True);
            Assert.That(pdu.OriginServerTs, Is.EqualTo(1_700_000_000_000));
            Assert.That(pdu.Depth, Is.EqualTo(7));
            Assert.That((string?)pdu.Content["body"], Is.EqualTo("hello"));
            Assert.That((int?)pdu.UnsignedData?["age"], Is.EqualTo(5));
            Assert.That(pdu.Redacts, Is.Null);
            Assert.That(pdu.Version, Is.SameAs(RoomVersion.V10));
        });
    }

    [Test]
    public void An_event_without_a_state_key_is_not_a_state_event()
    {
        var pdu = Pdu.Parse(Event(RoomVersion.V10), RoomVersion.V10);
        Assert.That(pdu.IsState, Is.False);
        Assert.That(pdu.StateKey, Is.Null);
    }

    [TestCase("3")]
    [TestCase("4")]
    [TestCase("12")]
    public void From_version_3_the_event_id_is_the_reference_hash(string id)
    {
        var version = RoomVersion.Get(id);
        var pdu = Pdu.Parse(Event(version), version);
        Assert.That(pdu.EventId, Is.EqualTo(EventIds.Compute(Event(version), version)));
        Assert.That(pdu.ReferenceHash.ToArray(), Has.Length.EqualTo(32));
    }

    [Test]
    public void From_version_3_a_stray_event_id_is_dropped_and_does_not_change_the_id()
    {
        var withStray = Event(RoomVersion.V4);
        withStray["event_id"] = "$forged:example.org";
        var pdu = Pdu.Parse(withStray, RoomVersion.V4);
        Assert.That(pdu.Json.ContainsKey("event_id"), Is.False);
        Assert.That(pdu.EventId, Is.EqualTo(Pdu.Parse(Event(RoomVersion.V4), RoomVersion.V4).EventId));
    }

    [TestCase("type")]
    [TestCase("sender")]
    [TestCase("content")]
    [TestCase("origin_server_ts")]
    [TestCase("depth")]
    [TestCase("prev_events")]
    [TestCase("auth_events")]
    [TestCase("hashes")]
    [TestCase("signatures")]
    [TestCase("room_id")]
    public void A_required_key_missing_is_refused(string field)
    {
        foreach (var version in new[] { RoomVersion.V1, RoomVersion.V4, RoomVersion.V12 })
        {
            var json = Event(version);
            json.Remove(field);
            var error = Refused(json, version);
            Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.MissingField), $"room version {version}");
            Assert.That(error.Field, Is.EqualTo(field));
        }
    }

    [Test]
    public void Versions_1_and_2_require_an_event_id_of_the_form_opaque_colon_server()
    {
        var json = Event(RoomVersion.V2);
        json.Remove("event_id");
        Assert.That(Refused(json, RoomVersion.V2).Field, Is.EqualTo("event_id"));

        json["event_id"] = "$noServerPart";
        var error = Refused(json, RoomVersion.V2);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.InvalidValue));
        Assert.That(error.Field, Is.EqualTo("event_id"));
    }

    [Test]
    public void A_hashes_object_without_sha256_is_refused()
    {
        var json = Event(RoomVersion.V10);
        json["hashes"] = new JsonObject();
        Assert.That(Refused(json, RoomVersion.V10).Field, Is.EqualTo("hashes.sha256"));
    }

    [TestCase("type", "5")]
    [TestCase("state_key", "null")]
    [TestCase("sender", "[]")]
    [TestCase("content", "\"text\"")]
    [TestCase("origin_server_ts", "\"1000\"")]
    [TestCase("depth", "true")]
    [TestCase("prev_events", "{}")]
    [TestCase("hashes", "[]")]
    [TestCase("signatures", "\"sig\"")]
    [TestCase("unsigned", "1")]
    [TestCase("room_id", "1")]
    public void A_key_of_the_wrong_type_is_refused(string field, string value)
    {
        var json = Event(RoomVersion.V10);
        json[field] = JsonNode.Parse(value);
        var error = Refused(json, RoomVersion.V10);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.WrongType));
        Assert.That(error.Field, Is.EqualTo(field));
    }

    [Test]
    public void A_signature_that_is_not_a_string_is_refused()
    {
        var json = Event(RoomVersion.V10);
        json["signatures"] = JsonNode.Parse("""{"example.org": {"ed25519:1": 5}}""");
        Assert.That(Refused(json, RoomVersion.V10).Field, Is.EqualTo("signatures.example.org.ed25519:1"));
    }

    [Test]
    public void Version_1_references_as_plain_ids_are_refused()
    {
        var json = Event(RoomVersion.V1);
        json["prev_events"] = new JsonArray("$prev:example.org");
        var error = Refused(json, RoomVersion.V1);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.WrongType));
        Assert.That(error.Field, Is.EqualTo("prev_events[0]"));
        Assert.That(error.Message, Does.Contain("pair"));
    }

    [Test]
    public void Version_3_references_as_id_hash_pairs_are_refused()
    {
        var json = Event(RoomVersion.V3);
        json["auth_events"] = new JsonArray(new JsonArray("$auth:example.org", new JsonObject { ["sha256"] = Hash }));
        var error = Refused(json, RoomVersion.V3);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.WrongType));
        Assert.That(error.Field, Is.EqualTo("auth_events[0]"));
    }

    [Test]
    public void A_pair_whose_second_element_is_not_an_object_is_refused()
    {
        var json = Event(RoomVersion.V1);
        json["auth_events"] = new JsonArray(new JsonArray("$auth:example.org", "hash"));
        Assert.That(Refused(json, RoomVersion.V1).Field, Is.EqualTo("auth_events[0]"));
    }

    [Test]
    public void A_reference_that_is_not_an_event_id_is_refused()
    {
        var json = Event(RoomVersion.V10);
        json["prev_events"] = new JsonArray("$ok", "@alice:example.org");
        var error = Refused(json, RoomVersion.V10);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.InvalidValue));
        Assert.That(error.Field, Is.EqualTo("prev_events[1]"));
    }

    [Test]
    public void At_most_20_prev_events_and_10_auth_events()
    {
        var json = Event(RoomVersion.V10);
        json["prev_events"] = new JsonArray([.. Enumerable.Range(0, 20).Select(i => (JsonNode)$"$p{i}")]);
        json["auth_events"] = new JsonArray([.. Enumerable.Range(0, 10).Select(i => (JsonNode)$"$a{i}")]);
        Assert.DoesNotThrow(() => Pdu.Parse((JsonObject)json.DeepClone(), RoomVersion.V10));

        json["prev_events"]!.AsArray().Add((JsonNode)"$p20");
        Assert.That(Refused((JsonObject)json.DeepClone(), RoomVersion.V10).Field, Is.EqualTo("prev_events"));
        json["prev_events"]!.AsArray().RemoveAt(20);
        json["auth_events"]!.AsArray().Add((JsonNode)"$a10");
        Assert.That(Refused(json, RoomVersion.V10).Field, Is.EqualTo("auth_events"));
    }

    [Test]
    public void From_version_6_a_float_anywhere_makes_the_event_invalid()
    {
        var json = Event(RoomVersion.V6);
        json["content"]!["amount"] = 1.5;
        Assert.That(Refused(json, RoomVersion.V6).Problem, Is.EqualTo(PduFormatProblem.NotCanonicalJson));

        var lenient = Event(RoomVersion.V5);
        lenient["content"]!["amount"] = 1.5;
        Assert.DoesNotThrow(() => Pdu.Parse(lenient, RoomVersion.V5));
    }

    [Test]
    public void From_version_6_an_integer_beyond_2_pow_53_makes_the_event_invalid()
    {
        var json = Event(RoomVersion.V9);
        json["content"]!["big"] = 1L << 53;
        Assert.That(Refused(json, RoomVersion.V9).Problem, Is.EqualTo(PduFormatProblem.NotCanonicalJson));
    }

    [Test]
    public void Depth_above_the_room_versions_limit_is_refused()
    {
        var json = Event(RoomVersion.V1);
        json["depth"] = long.MaxValue;
        Assert.That(Pdu.Parse(json, RoomVersion.V1).Depth, Is.EqualTo(long.MaxValue));

        var strict = Event(RoomVersion.V11);
        strict["depth"] = (1L << 53) - 1;
        Assert.That(Pdu.Parse((JsonObject)strict.DeepClone(), RoomVersion.V11).Depth, Is.EqualTo((1L << 53) - 1));
        strict["depth"] = 1L << 53;
        Assert.That(Refused(strict, RoomVersion.V11).Problem, Is.EqualTo(PduFormatProblem.NotCanonicalJson));
    }

    [Test]
    public void Up_to_version_11_the_room_id_has_a_server_name()
    {
        var json = Event(RoomVersion.V11);
        json["room_id"] = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ";
        var error = Refused(json, RoomVersion.V11);
        Assert.That(error.Problem, Is.EqualTo(PduFormatProblem.InvalidValue));
        Assert.That(error.Field, Is.EqualTo("room_id"));
    }

    [Test]
    public void In_version_12_the_room_id_is_a_create_event_hash()
    {
        var json = Event(RoomVersion.V12);
        json["room_id"] = "!room:example.org";
        Assert.That(Refused(json, RoomVersion.V12).Field, Is.EqualTo("room_id"));
    }

    [Test]
    public void In_version_12_the_create_event_has_no_room_id_and_names_the_room_by_its_own_id()
    {
        var json = Event(RoomVersion.V12, EventTypes.Create, "");
        json.Remove("room_id");
        json["prev_events"] = new JsonArray();
        json["auth_events"] = new JsonArray();
        var pdu = Pdu.Parse(json, RoomVersion.V12);
        Assert.That(pdu.RoomId.Value, Is.EqualTo("!" + pdu.EventId.Value[1..]));
        Assert.That(pdu.RoomId.Server, Is.Null);
    }

    [Test]
    public void Before_version_11_redacts_is_a_top_level_key()
    {
        var json = Event(RoomVersion.V10, EventTypes.Redaction);
        json["redacts"] = "$target";
        json["content"]!["redacts"] = "$ignored";
        Assert.That(Pdu.Parse(json, RoomVersion.V10).Redacts?.Value, Is.EqualTo("$target"));

        var wrong = Event(RoomVersion.V10, EventTypes.Redaction);
        wrong["redacts"] = 5;
        Assert.That(Refused(wrong, RoomVersion.V10).Field, Is.EqualTo("redacts"));
    }

    [Test]
    public void From_version_11_redacts_is_in_the_content()
    {
        var json = Event(RoomVersion.V11, EventTypes.Redaction);
        json["redacts"] = "$ignored";
        json["content"]!["redacts"] = "$target";
        Assert.That(Pdu.Parse(json, RoomVersion.V11).Redacts?.Value, Is.EqualTo("$target"));
    }

    [Test]
    public void Only_redaction_events_redact()
    {
        var json = Event(RoomVersion.V10);
        json["redacts"] = "$target";
        Assert.That(Pdu.Parse(json, RoomVersion.V10).Redacts, Is.Null);
    }

    [Test]
    public void Bytes_that_are_not_a_json_object_are_refused()
    {
        Assert.That(Assert.Throws<PduFormatException>(() => Pdu.Parse("[1]"u8, RoomVersion.V10))!.Problem, Is.EqualTo(PduFormatProblem.NotJson));
        Assert.That(Assert.Throws<PduFormatException>(() => Pdu.Parse("{"u8, RoomVersion.V10))!.Problem, Is.EqualTo(PduFormatProblem.NotJson));
    }

    [Test]
    public void A_repeated_key_is_refused()
    {
        var json = Event(RoomVersion.V10).ToJsonString();
        var repeated = json.Insert(1, "\"type\":\"m.other\",");
        var error = Assert.Throws<PduFormatException>(() => Pdu.Parse(Encoding.UTF8.GetBytes(repeated), RoomVersion.V10));
        Assert.That(error!.Problem, Is.EqualTo(PduFormatProblem.NotJson));
    }

    [Test]
    public void Parsing_bytes_gives_the_same_event_as_parsing_the_object()
    {
        var json = Event(RoomVersion.V12);
        var fromBytes = Pdu.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), RoomVersion.V12);
        Assert.That(fromBytes.EventId, Is.EqualTo(Pdu.Parse(json, RoomVersion.V12).EventId));
    }

    [Test]
    public void The_size_limits_are_65536_bytes_and_255_bytes_for_type_and_state_key()
    {
        Assert.That(Pdu.Parse(Event(RoomVersion.V10), RoomVersion.V10).SizeLimitViolation(), Is.Null);

        var big = Event(RoomVersion.V10);
        big["content"]!["body"] = new string('x', 65536);
        Assert.That(Pdu.Parse(big, RoomVersion.V10).SizeLimitViolation(), Does.Contain("65536"));

        Assert.That(Pdu.Parse(Event(RoomVersion.V10, new string('t', 255), new string('s', 255)), RoomVersion.V10).SizeLimitViolation(), Is.Null);
        Assert.That(Pdu.Parse(Event(RoomVersion.V10, new string('t', 256)), RoomVersion.V10).SizeLimitViolation(), Does.Contain("type"));
        Assert.That(Pdu.Parse(Event(RoomVersion.V10, "m.x", "é" + new string('s', 254)), RoomVersion.V10).SizeLimitViolation(), Does.Contain("state key"));
    }
}
