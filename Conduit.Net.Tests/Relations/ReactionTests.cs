using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Relations;

/// <summary>
/// Annotations: listed through <c>/relations/{eventId}/m.annotation/m.reaction</c> in both directions
/// with pagination, refused when duplicated, gone once redacted, and never bundled.
/// </summary>
public sealed class ReactionTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private async Task<(TestSession Alice, TestSession Bob, string RoomId)> RoomWithTwoAsync()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var roomId = await _server.CreateRoomAsync(alice, new JsonObject { ["preset"] = "public_chat" });
        await _server.JoinAsync(bob, roomId);
        return (alice, bob, roomId);
    }

    [Test]
    public async Task Reactions_page_backwards_newest_first_and_forwards_oldest_first()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync();
        var target = await _server.SendTextAsync(alice, roomId, "react to me");
        var reactions = new List<string>
        {
            await _server.ReactAsync(alice, roomId, target, "👍"),
            await _server.ReactAsync(bob, roomId, target, "👍"),
            await _server.ReactAsync(bob, roomId, target, "🎉"),
        };
        var path = RelationsApi.RelationsPath(roomId, target, "m.annotation", "m.reaction");

        var first = await _server.GetOkAsync(bob, path + "?limit=2");
        Assert.That(first.ChunkIds(), Is.EqualTo(new[] { reactions[2], reactions[1] }));
        Assert.That(first["prev_batch"], Is.Null, "the first page has no prev_batch");
        var next = (string?)first["next_batch"];
        Assert.That(next, Is.Not.Null);
        var second = await _server.GetOkAsync(bob, $"{path}?limit=2&from={Uri.EscapeDataString(next!)}");
        Assert.That(second.ChunkIds(), Is.EqualTo(new[] { reactions[0] }));
        Assert.That(second["next_batch"], Is.Null, "nothing more to fetch");
        Assert.That((string?)second["prev_batch"], Is.EqualTo(next));

        var forwards = await _server.GetOkAsync(bob, path + "?dir=f&limit=2");
        Assert.That(forwards.ChunkIds(), Is.EqualTo(new[] { reactions[0], reactions[1] }));
        var rest = await _server.GetOkAsync(bob, $"{path}?dir=f&limit=2&from={Uri.EscapeDataString((string)forwards["next_batch"]!)}");
        Assert.That(rest.ChunkIds(), Is.EqualTo(new[] { reactions[2] }));
        Assert.That(rest["recursion_depth"], Is.Null, "absent when recurse was not given");

        var served = await _server.GetEventAsync(bob, roomId, target);
        Assert.That(served.Bundle()?["m.annotation"], Is.Null, "annotations are not aggregated by the server");
    }

    [Test]
    public async Task The_to_token_bounds_the_page()
    {
        var (alice, _, roomId) = await RoomWithTwoAsync();
        var target = await _server.SendTextAsync(alice, roomId, "bounded");
        var old = await _server.ReactAsync(alice, roomId, target, "a");
        var (_, messages) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit=1", accessToken: alice.AccessToken);
        var afterOld = (string)messages!["start"]!;
        var newer = await _server.ReactAsync(alice, roomId, target, "b");

        var page = await _server.GetOkAsync(alice, $"{RelationsApi.RelationsPath(roomId, target)}?to={Uri.EscapeDataString(afterOld)}");
        Assert.That(page.ChunkIds(), Is.EqualTo(new[] { newer }), $"{old} is before the to token");
    }

    [Test]
    public async Task The_same_reaction_twice_is_400_M_DUPLICATE_ANNOTATION_until_the_first_is_redacted()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync();
        var target = await _server.SendTextAsync(alice, roomId, "once only");
        var first = await _server.ReactAsync(bob, roomId, target, "👍");

        var (status, body) = await _server.SendRawAsync(bob, roomId, "m.reaction", RelationsApi.Reaction(target, "👍"));
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_DUPLICATE_ANNOTATION"));

        await _server.ReactAsync(alice, roomId, target, "👍");
        await _server.ReactAsync(bob, roomId, target, "👎");

        await _server.RedactAsync(bob, roomId, first);
        await _server.ReactAsync(bob, roomId, target, "👍");
    }

    [Test]
    public async Task Redacting_a_reaction_removes_it_from_the_list()
    {
        var (alice, bob, roomId) = await RoomWithTwoAsync();
        var target = await _server.SendTextAsync(alice, roomId, "fickle");
        var kept = await _server.ReactAsync(alice, roomId, target, "❤️");
        var withdrawn = await _server.ReactAsync(bob, roomId, target, "❤️");
        await _server.RedactAsync(bob, roomId, withdrawn);

        var page = await _server.GetOkAsync(alice, RelationsApi.RelationsPath(roomId, target, "m.annotation"));
        Assert.That(page.ChunkIds(), Is.EqualTo(new[] { kept }));
    }
}
