using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Relations;

/// <summary>
/// Annotations: listed through <c>/relations/{eventId}/m.annotation/m.reaction</c> in both directions
/// with pagination, refused when duplicated, gone once redacted, and never bundled.
/// </summary>
public sealed class ReactionTests : ServerFixture
{
    [Test]
    public async Task Reactions_page_backwards_newest_first_and_forwards_oldest_first()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var target = await Server.SendTextAsync(alice, roomId, "react to me");
        var reactions = new List<string>
        {
            await Server.ReactAsync(alice, roomId, target, "👍"),
            await Server.ReactAsync(bob, roomId, target, "👍"),
            await Server.ReactAsync(bob, roomId, target, "🎉"),
        };
        var path = RelationsApi.RelationsPath(roomId, target, "m.annotation", "m.reaction");

        var first = await Server.GetOkAsync(bob, path + "?limit=2");
        Assert.That(first.ChunkIds(), Is.EqualTo(new[] { reactions[2], reactions[1] }));
        Assert.That(first["prev_batch"], Is.Null, "the first page has no prev_batch");
        var next = (string?)first["next_batch"];
        Assert.That(next, Is.Not.Null);
        var second = await Server.GetOkAsync(bob, $"{path}?limit=2&from={Uri.EscapeDataString(next!)}");
        Assert.That(second.ChunkIds(), Is.EqualTo(new[] { reactions[0] }));
        Assert.That(second["next_batch"], Is.Null, "nothing more to fetch");
        Assert.That((string?)second["prev_batch"], Is.EqualTo(next));

        var forwards = await Server.GetOkAsync(bob, path + "?dir=f&limit=2");
        Assert.That(forwards.ChunkIds(), Is.EqualTo(new[] { reactions[0], reactions[1] }));
        var rest = await Server.GetOkAsync(bob, $"{path}?dir=f&limit=2&from={Uri.EscapeDataString((string)forwards["next_batch"]!)}");
        Assert.That(rest.ChunkIds(), Is.EqualTo(new[] { reactions[2] }));
        Assert.That(rest["recursion_depth"], Is.Null, "absent when recurse was not given");

        var served = await Server.GetEventAsync(bob, roomId, target);
        Assert.That(served.Bundle()?["m.annotation"], Is.Null, "annotations are not aggregated by the server");
    }

    [Test]
    public async Task The_to_token_bounds_the_page()
    {
        var (alice, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var target = await Server.SendTextAsync(alice, roomId, "bounded");
        var old = await Server.ReactAsync(alice, roomId, target, "a");
        var (_, messages) = await Server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1", accessToken: alice.AccessToken);
        var afterOld = (string)messages!["start"]!;
        var newer = await Server.ReactAsync(alice, roomId, target, "b");

        var page = await Server.GetOkAsync(alice, $"{RelationsApi.RelationsPath(roomId, target)}?to={Uri.EscapeDataString(afterOld)}");
        Assert.That(page.ChunkIds(), Is.EqualTo(new[] { newer }), $"{old} is before the to token");
    }

    [Test]
    public async Task The_same_reaction_twice_is_400_M_DUPLICATE_ANNOTATION_until_the_first_is_redacted()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var target = await Server.SendTextAsync(alice, roomId, "once only");
        var first = await Server.ReactAsync(bob, roomId, target, "👍");

        var (status, body) = await Server.SendRawAsync(bob, roomId, "m.reaction", RelationsApi.Reaction(target, "👍"));
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_DUPLICATE_ANNOTATION"));

        await Server.ReactAsync(alice, roomId, target, "👍");
        await Server.ReactAsync(bob, roomId, target, "👎");

        await Server.RedactAsync(bob, roomId, first);
        await Server.ReactAsync(bob, roomId, target, "👍");
    }

    [Test]
    public async Task Redacting_a_reaction_removes_it_from_the_list()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var target = await Server.SendTextAsync(alice, roomId, "fickle");
        var kept = await Server.ReactAsync(alice, roomId, target, "❤️");
        var withdrawn = await Server.ReactAsync(bob, roomId, target, "❤️");
        await Server.RedactAsync(bob, roomId, withdrawn);

        var page = await Server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, target, "m.annotation"));
        Assert.That(page.ChunkIds(), Is.EqualTo(new[] { kept }));
    }
}
