using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Json;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Events;

/// <summary>
/// Building local events: "Adding hashes and signatures to outgoing events", depth and references in
/// the room version's format, the event id, and the room id of a version 12 room.
/// </summary>
public sealed class PduBuilderTests
{
    private static readonly ServerName Server = ServerName.Parse("example.org");
    private static readonly UserId Alice = UserId.Parse("@alice:example.org");

    private SigningKey _key = null!;

    [SetUp]
    public void CreateKey() => _key = SigningKey.Generate("test");

    [TearDown]
    public void DisposeKey() => _key.Dispose();

    private static PduTemplate Template(RoomId? roomId, string type = "m.room.message", string? stateKey = null, JsonObject? content = null) => new()
    {
        Type = type,
        StateKey = stateKey,
        Sender = Alice,
        Content = content ?? new JsonObject { ["body"] = "hello" },
        RoomId = roomId,
        OriginServerTs = 1_700_000_000_000,
    };

    private Pdu Create(RoomVersion version, RoomId? roomId = null)
    {
        var content = new JsonObject { ["room_version"] = version.Id };
        if (!version.CreatorIsSender)
            content["creator"] = Alice.Value;
        var id = version.RoomIdFormat == RoomIdFormat.CreateEventHash ? null : roomId ?? EventIds.NewServerScopedRoomId(Server);
        return PduBuilder.Build(version, Template(id, EventTypes.Create, "", content), [], [], Server, _key);
    }

    [TestCaseSource(typeof(RoomVersion), nameof(RoomVersion.Supported))]
    public void A_built_event_has_a_valid_content_hash_and_signature(RoomVersion version)
    {
        var create = Create(version);
        var message = PduBuilder.Build(version, Template(create.RoomId), [create], version.CreateEventInAuthEvents ? [create] : [], Server, _key);

        Assert.That(EventHashes.HasValidContentHash(message.Json), Is.True);
        Assert.That(EventSigning.Check(message, Server.Value, _key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(EventSigning.Check(Redaction.Redact(message.Json, version), version, Server.Value, _key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
        Assert.That(Pdu.Parse((JsonObject)message.Json.DeepClone(), version).EventId, Is.EqualTo(message.EventId));
        Assert.That(message.RoomId, Is.EqualTo(create.RoomId));
    }

    [Test]
    public void Depth_is_one_more_than_the_deepest_prev_event()
    {
        var create = Create(RoomVersion.V10);
        Assert.That(create.Depth, Is.EqualTo(1));
        var second = PduBuilder.Build(RoomVersion.V10, Template(create.RoomId), [create], [create], Server, _key);
        var third = PduBuilder.Build(RoomVersion.V10, Template(create.RoomId), [second], [create], Server, _key);
        var merge = PduBuilder.Build(RoomVersion.V10, Template(create.RoomId), [create, third], [create], Server, _key);
        Assert.That((second.Depth, third.Depth, merge.Depth), Is.EqualTo((2L, 3L, 4L)));
        Assert.That(merge.PrevEvents, Is.EqualTo(new[] { create.EventId, third.EventId }));
    }

    [Test]
    public void Depth_stays_at_the_limit_once_reached()
    {
        var prev = Pdu.Parse(PduParsingTests.Event(RoomVersion.V10), RoomVersion.V10);
        var atLimit = PduParsingTests.Event(RoomVersion.V10);
        atLimit["depth"] = RoomVersion.V10.MaxDepth;
        var deepest = Pdu.Parse(atLimit, RoomVersion.V10);
        var next = PduBuilder.Build(RoomVersion.V10, Template(prev.RoomId), [prev, deepest], [], Server, _key);
        Assert.That(next.Depth, Is.EqualTo(RoomVersion.V10.MaxDepth));
    }

    [Test]
    public void Versions_1_and_2_get_a_server_scoped_id_and_id_hash_pairs()
    {
        var create = Create(RoomVersion.V1);
        var message = PduBuilder.Build(RoomVersion.V1, Template(create.RoomId), [create], [create], Server, _key);

        Assert.That(message.EventId.Server, Is.EqualTo(Server));
        Assert.That((string?)message.Json["event_id"], Is.EqualTo(message.EventId.Value));
        var pair = message.Json["prev_events"]![0]!.AsArray();
        Assert.That((string?)pair[0], Is.EqualTo(create.EventId.Value));
        Assert.That((string?)pair[1]!["sha256"], Is.EqualTo(UnpaddedBase64.Encode(create.ReferenceHash)));
    }

    [TestCase("3")]
    [TestCase("4")]
    [TestCase("11")]
    public void From_version_3_the_event_has_no_event_id_key_and_its_id_is_its_hash(string id)
    {
        var version = RoomVersion.Get(id);
        var create = Create(version);
        var message = PduBuilder.Build(version, Template(create.RoomId), [create], [create], Server, _key);

        Assert.That(message.Json.ContainsKey("event_id"), Is.False);
        Assert.That(message.EventId, Is.EqualTo(EventIds.Compute(message.Json, version)));
        Assert.That((string?)message.Json["prev_events"]![0], Is.EqualTo(create.EventId.Value));
    }

    [Test]
    public void In_version_12_the_create_event_has_no_room_id_and_later_events_use_its_hash()
    {
        var create = Create(RoomVersion.V12);
        Assert.That(create.Json.ContainsKey("room_id"), Is.False);
        Assert.That(create.RoomId.Value, Is.EqualTo("!" + create.EventId.Value[1..]));

        var join = PduBuilder.Build(
            RoomVersion.V12,
            Template(create.RoomId, EventTypes.Member, Alice.Value, new JsonObject { ["membership"] = "join" }),
            [create],
            [],
            Server,
            _key);
        Assert.That((string?)join.Json["room_id"], Is.EqualTo(create.RoomId.Value));
    }

    [Test]
    public void In_version_12_the_create_event_is_not_an_auth_event()
    {
        var create = Create(RoomVersion.V12);
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V12, Template(create.RoomId), [create], [create], Server, _key));
    }

    [Test]
    public void The_room_id_must_fit_the_room_version()
    {
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V12, Template(RoomId.Parse("!room:example.org"), EventTypes.Create, ""), [], [], Server, _key));
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V11, Template(null, EventTypes.Create, ""), [], [], Server, _key));
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V12, Template(null), [], [], Server, _key));
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V11, Template(RoomId.Parse("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ")), [], [], Server, _key));
    }

    [Test]
    public void References_from_another_room_are_refused()
    {
        var create = Create(RoomVersion.V10);
        var elsewhere = Create(RoomVersion.V10);
        Assert.Throws<ArgumentException>(() => PduBuilder.Build(RoomVersion.V10, Template(create.RoomId), [elsewhere], [create], Server, _key));
    }

    [Test]
    public void Before_version_11_redacts_goes_to_the_top_level()
    {
        var create = Create(RoomVersion.V10);
        var template = Template(create.RoomId, EventTypes.Redaction, content: []) with { Redacts = create.EventId };
        var redaction = PduBuilder.Build(RoomVersion.V10, template, [create], [create], Server, _key);
        Assert.That((string?)redaction.Json["redacts"], Is.EqualTo(create.EventId.Value));
        Assert.That(redaction.Content.ContainsKey("redacts"), Is.False);
        Assert.That(redaction.Redacts, Is.EqualTo(create.EventId));
    }

    [Test]
    public void From_version_11_redacts_goes_into_the_content_and_the_template_is_not_changed()
    {
        var create = Create(RoomVersion.V11);
        var content = new JsonObject { ["reason"] = "spam" };
        var template = Template(create.RoomId, EventTypes.Redaction, content: content) with { Redacts = create.EventId };
        var redaction = PduBuilder.Build(RoomVersion.V11, template, [create], [create], Server, _key);
        Assert.That((string?)redaction.Content["redacts"], Is.EqualTo(create.EventId.Value));
        Assert.That(redaction.Json.ContainsKey("redacts"), Is.False);
        Assert.That(redaction.Redacts, Is.EqualTo(create.EventId));
        Assert.That(content.ContainsKey("redacts"), Is.False);
    }

    [Test]
    public void Content_that_canonical_json_cannot_encode_is_refused()
    {
        var create = Create(RoomVersion.V10);
        var error = Assert.Throws<PduFormatException>(() =>
            PduBuilder.Build(RoomVersion.V10, Template(create.RoomId, content: new JsonObject { ["x"] = 1.5 }), [create], [create], Server, _key));
        Assert.That(error!.Problem, Is.EqualTo(PduFormatProblem.NotCanonicalJson));
    }

    [Test]
    public void An_event_over_65536_bytes_is_too_large()
    {
        var create = Create(RoomVersion.V10);
        var content = new JsonObject { ["body"] = new string('x', 65000) };
        Assert.DoesNotThrow(() => PduBuilder.Build(RoomVersion.V10, Template(create.RoomId, content: content), [create], [create], Server, _key));

        content["body"] = new string('x', 66000);
        var error = Assert.Throws<PduFormatException>(() =>
            PduBuilder.Build(RoomVersion.V10, Template(create.RoomId, content: content), [create], [create], Server, _key));
        Assert.That(error!.Problem, Is.EqualTo(PduFormatProblem.TooLarge));
    }

    [Test]
    public void A_state_key_over_255_bytes_is_too_large()
    {
        var create = Create(RoomVersion.V10);
        var error = Assert.Throws<PduFormatException>(() =>
            PduBuilder.Build(RoomVersion.V10, Template(create.RoomId, "m.custom", new string('k', 256)), [create], [create], Server, _key));
        Assert.That(error!.Problem, Is.EqualTo(PduFormatProblem.TooLarge));
    }
}
