using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using static Conduit.Net.Tests.Core.Auth.AuthTestRoom;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>Rule 1, <c>m.room.create</c>, and rule 2 of version 12 (the room id names the create event).</summary>
public sealed class CreateAuthTests
{
    private static JsonObject CreateContent(RoomVersion version, string creator = Alice)
    {
        var content = new JsonObject { ["room_version"] = version.Id };
        if (!version.CreatorIsSender)
            content["creator"] = creator;
        return content;
    }

    /// <summary>A create event as JSON, from the room <paramref name="room"/> builds for the same version.</summary>
    private static AuthResult CheckCreate(RoomVersion version, Action<JsonObject> edit)
    {
        var room = Created(version);
        var json = room.Create.Json.DeepClone().AsObject();
        edit(json);
        return CreateAuth.Check(Pdu.Parse(json, version));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_create_event_without_prev_events_is_allowed(RoomVersion version)
    {
        var room = Created(version);
        Assert.That(EventAuth.Check(room.Create, new StateLookup()).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_create_event_with_prev_events_is_rejected(RoomVersion version)
    {
        var room = Created(version);
        var second = room.BuildWith(EventTypes.Create, Alice, CreateContent(version), "", [room.Create], []);
        var result = EventAuth.Check(second, room.State);
        Assert.That(result.Rule, Is.EqualTo(AuthRule.CreateEvent));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.ServerScopedRoomIds))]
    public void A_create_event_whose_room_id_is_on_another_server_than_the_sender_is_rejected(RoomVersion version)
    {
        var result = CheckCreate(version, json => json["room_id"] = "!room:b.example");
        Assert.That(result.Rule, Is.EqualTo(AuthRule.CreateEvent));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RoomIdIsCreateEventHash))]
    public void A_create_event_that_has_a_room_id_is_rejected(RoomVersion version)
    {
        var result = CheckCreate(version, json => json["room_id"] = "!room:a.example");
        Assert.That(result.Rule, Is.EqualTo(AuthRule.CreateEvent));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_unrecognised_room_version_in_the_content_is_rejected(RoomVersion version)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CheckCreate(version, json => json["content"]!["room_version"] = "99").Rule, Is.EqualTo(AuthRule.CreateEvent));
            Assert.That(CheckCreate(version, json => json["content"]!["room_version"] = 1).Rule, Is.EqualTo(AuthRule.CreateEvent));
        });
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void A_create_event_without_room_version_is_allowed(RoomVersion version)
    {
        var result = CheckCreate(version, json => json["content"]!.AsObject().Remove("room_version"));
        Assert.That(result.IsAllowed, Is.True, result.ToString());
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorInContent))]
    public void A_create_event_without_creator_is_rejected_before_version_11(RoomVersion version)
    {
        var result = CheckCreate(version, json => json["content"]!.AsObject().Remove("creator"));
        Assert.That(result.Rule, Is.EqualTo(AuthRule.CreateEvent));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorIsSender))]
    public void A_create_event_without_creator_is_accepted_from_version_11(RoomVersion version)
    {
        var room = Created(version);
        Assert.That(room.Create.Content.ContainsKey("creator"), Is.False);
        Assert.That(CreateAuth.Check(room.Create).IsAllowed, Is.True);
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.CreatorsUnlimited))]
    public void Additional_creators_must_be_an_array_of_user_ids(RoomVersion version)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CheckCreate(version, json => json["content"]!["additional_creators"] = new JsonArray(Bob, Carol)).IsAllowed, Is.True);
            Assert.That(CheckCreate(version, json => json["content"]!["additional_creators"] = new JsonArray(Bob, "carol")).Rule, Is.EqualTo(AuthRule.CreateEvent));
            Assert.That(CheckCreate(version, json => json["content"]!["additional_creators"] = new JsonArray(Bob, 5)).Rule, Is.EqualTo(AuthRule.CreateEvent));
            Assert.That(CheckCreate(version, json => json["content"]!["additional_creators"] = Bob).Rule, Is.EqualTo(AuthRule.CreateEvent));
        });
    }

    [TestCase("11")]
    [TestCase("10")]
    [TestCase("1")]
    public void Additional_creators_mean_nothing_before_version_12(string id)
    {
        var version = RoomVersion.Get(id);
        var result = CheckCreate(version, json => json["content"]!["additional_creators"] = "not a list");
        Assert.That(result.IsAllowed, Is.True, result.ToString());
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.RoomIdIsCreateEventHash))]
    public void An_event_whose_room_id_is_not_the_create_event_of_its_state_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        var other = Created(version, editContent: content => content["m.test"] = "another room");
        other.Join(Alice);
        var message = other.Build("m.room.message", Alice, new JsonObject { ["body"] = "hi" });
        Assert.That(other.RoomId, Is.Not.EqualTo(room.RoomId));
        var result = room.Check(message);
        Assert.That(result.Rule, Is.EqualTo(AuthRule.RoomCreate));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_event_checked_against_state_without_a_create_event_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        var message = room.Build("m.room.message", Alice, new JsonObject { ["body"] = "hi" });
        var withoutCreate = StateLookup.Of([room.State.Find(EventTypes.Member, Alice)!, room.State.Find(EventTypes.PowerLevels, "")!]);
        Assert.That(EventAuth.Check(message, withoutCreate).Rule, Is.EqualTo(AuthRule.RoomCreate));
    }

    [TestCaseSource(typeof(RoomVersionCases), nameof(RoomVersionCases.All))]
    public void An_event_of_another_room_is_rejected(RoomVersion version)
    {
        var room = Standard(version);
        var message = room.Build("m.room.message", Alice, new JsonObject { ["body"] = "hi" }, edit: json =>
        {
            if (version.RoomIdFormat == RoomIdFormat.ServerScoped)
                json["room_id"] = "!elsewhere:a.example";
            else
                json["room_id"] = "!" + new string('A', 43);
        });
        Assert.That(room.Check(message).Rule, Is.EqualTo(AuthRule.RoomCreate));
    }
}
