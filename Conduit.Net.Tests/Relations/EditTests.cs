using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Relations;

/// <summary>
/// Event replacements as served to clients: the most recent valid edit bundled under
/// <c>unsigned.m.relations.m.replace</c>, the original's content left alone, invalid edits ignored,
/// and redactions of the original or of an edit.
/// </summary>
public sealed class EditTests : ServerFixture
{
    [Test]
    public async Task An_edit_by_the_sender_is_bundled_as_m_replace_on_event_and_messages_and_the_content_is_not_replaced()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "I like cake");
        var edit = await Server.EditAsync(alice, roomId, original, "I like chocolate cake");

        var served = await Server.GetEventAsync(bob, roomId, original);
        var replace = served.Bundle()?["m.replace"];
        Assert.That(replace, Is.Not.Null, served.ToJsonString());
        Assert.That((string?)replace!["event_id"], Is.EqualTo(edit));
        Assert.That((string?)replace["sender"], Is.EqualTo(alice.UserId));
        Assert.That((string?)replace["type"], Is.EqualTo("m.room.message"));
        Assert.That((long?)replace["origin_server_ts"], Is.GreaterThan(0));
        Assert.That((string?)replace["content"]!["m.new_content"]!["body"], Is.EqualTo("I like chocolate cake"), "the edit is bundled as a whole event (v1.7)");
        Assert.That((string?)served["content"]!["body"], Is.EqualTo("I like cake"), "servers no longer apply the replacement");

        var messages = await Server.GetOkAsync(bob, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=5");
        var inTimeline = messages["chunk"]!.AsArray().Single(e => (string?)e!["event_id"] == original)!;
        Assert.That((string?)inTimeline.Bundle()?["m.replace"]?["event_id"], Is.EqualTo(edit));
        var editInTimeline = messages["chunk"]!.AsArray().Single(e => (string?)e!["event_id"] == edit)!;
        Assert.That(editInTimeline.Bundle(), Is.Null, "an edit has no children of its own");
    }

    [Test]
    public async Task The_most_recent_edit_is_the_one_bundled()
    {
        var (alice, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "v1");
        await Server.EditAsync(alice, roomId, original, "v2");
        var latest = await Server.EditAsync(alice, roomId, original, "v3");

        var served = await Server.GetEventAsync(alice, roomId, original);
        Assert.That((string?)served.Bundle()?["m.replace"]?["event_id"], Is.EqualTo(latest));
    }

    [Test]
    public async Task An_edit_by_another_user_is_ignored()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "mine");
        await Server.EditAsync(bob, roomId, original, "not yours");

        var served = await Server.GetEventAsync(alice, roomId, original);
        Assert.That(served.Bundle()?["m.replace"], Is.Null, served.ToJsonString());
    }

    [Test]
    public async Task An_edit_that_changes_the_event_type_or_lacks_new_content_is_ignored()
    {
        var (alice, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "typed");
        await Server.SendAsync(alice, roomId, "org.example.other", RelationsApi.Edit(original, "other type"));
        var withoutNewContent = RelationsApi.Edit(original, "x");
        withoutNewContent.Remove("m.new_content");
        await Server.SendAsync(alice, roomId, "m.room.message", withoutNewContent);

        var served = await Server.GetEventAsync(alice, roomId, original);
        Assert.That(served.Bundle()?["m.replace"], Is.Null, served.ToJsonString());
    }

    [Test]
    public async Task Redacting_the_latest_edit_reverts_the_bundle_to_the_one_before()
    {
        var (alice, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "v1");
        var first = await Server.EditAsync(alice, roomId, original, "v2");
        var second = await Server.EditAsync(alice, roomId, original, "v3");
        await Server.RedactAsync(alice, roomId, second);

        var served = await Server.GetEventAsync(alice, roomId, original);
        Assert.That((string?)served.Bundle()?["m.replace"]?["event_id"], Is.EqualTo(first));
    }

    [Test]
    public async Task A_redacted_original_has_no_edit_bundled()
    {
        var (alice, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var original = await Server.SendTextAsync(alice, roomId, "soon gone");
        await Server.EditAsync(alice, roomId, original, "still gone");
        await Server.RedactAsync(alice, roomId, original);

        var served = await Server.GetEventAsync(alice, roomId, original);
        Assert.That(served["unsigned"]?["redacted_because"], Is.Not.Null);
        Assert.That(served.Bundle()?["m.replace"], Is.Null, served.ToJsonString());
    }

    [Test]
    public async Task A_reference_is_bundled_as_a_chunk_of_event_ids()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var parent = await Server.SendTextAsync(alice, roomId, "start");
        var one = await Server.SendAsync(bob, roomId, "org.example.step", new JsonObject
        {
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.reference", ["event_id"] = parent },
        });
        var two = await Server.SendAsync(alice, roomId, "org.example.step", new JsonObject
        {
            ["m.relates_to"] = new JsonObject { ["rel_type"] = "m.reference", ["event_id"] = parent },
        });

        var served = await Server.GetEventAsync(alice, roomId, parent);
        var chunk = served.Bundle()?["m.reference"]?["chunk"]?.AsArray();
        Assert.That(chunk, Is.Not.Null, served.ToJsonString());
        Assert.That(chunk!.Select(e => (string?)e!["event_id"]), Is.EqualTo(new[] { one, two }));
    }
}
