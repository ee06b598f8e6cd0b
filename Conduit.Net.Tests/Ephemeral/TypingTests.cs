using System.Text.Json.Nodes;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Ephemeral;

/// <summary>
/// Typing notifications (<c>PUT /rooms/{roomId}/typing/{userId}</c>) over HTTP, their expiry, and
/// the typing stream sync reads.
/// </summary>
public sealed class TypingTests : ServerFixture
{
    private TypingService Typing => Server.Host.Services.GetRequiredService<TypingService>();

    private ulong Now => Server.Host.Services.GetRequiredService<KvStore>().CommittedCount;

    private static string TypingPath(string roomId, string userId) =>
        $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/typing/{Uri.EscapeDataString(userId)}";

    private Task<(int Status, JsonNode? Body)> SetTypingAsync(TestSession session, string roomId, JsonNode body, string? userId = null) =>
        Server.SendAsync(HttpMethod.Put, TypingPath(roomId, userId ?? session.UserId), body, session.AccessToken);

    private static JsonObject Body(bool typing, long? timeout = null)
    {
        var body = new JsonObject { ["typing"] = typing };
        if (timeout is { } ms)
            body["timeout"] = ms;
        return body;
    }

    [Test]
    public async Task Typing_starts_and_stops_and_the_stream_reports_both_changes()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var start = Now;
        var (status, body) = await SetTypingAsync(bob, roomId, Body(true, 30_000));
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));
        await SetTypingAsync(alice, roomId, Body(true, 30_000));
        var typing = Now;

        Assert.That(Typing.TypingUsers(roomId), Is.EquivalentTo(new[] { alice.UserId, bob.UserId }));
        var started = Typing.ChangesSince([roomId], start, typing);
        Assert.That(started[roomId].ToJsonString(), Is.EqualTo(TypingService.TypingEvent([.. new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal)]).ToJsonString()));
        Assert.That((string?)started[roomId]["type"], Is.EqualTo("m.typing"));

        await SetTypingAsync(bob, roomId, Body(false));
        var stopped = Typing.ChangesSince([roomId], typing, Now);
        Assert.That(stopped[roomId]["content"]?["user_ids"]?.AsArray().Select(u => (string)u!), Is.EqualTo(new[] { alice.UserId }));
    }

    [Test]
    public async Task Renewing_typing_is_not_a_change_and_a_later_position_sees_nothing()
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        await SetTypingAsync(bob, roomId, Body(true, 30_000));
        var after = Now;
        await SetTypingAsync(bob, roomId, Body(true, 30_000));
        Assert.That(Typing.ChangesSince([roomId], after, Now), Is.Empty);
        Assert.That(Typing.ChangesSince([roomId], 0, Now).ContainsKey(roomId), Is.True);
        await SetTypingAsync(bob, roomId, Body(false));
    }

    [Test]
    public async Task Typing_ends_by_itself_when_its_timeout_passes()
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        using var cancel = new CancellationTokenSource();
        await SetTypingAsync(bob, roomId, Body(true, 30_000));
        var started = Now;

        var watch = Typing.Watch([roomId], cancel.Token);
        await SetTypingAsync(bob, roomId, Body(true, 1));
        await watch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(Typing.TypingUsers(roomId), Is.Empty);
        var ended = Typing.ChangesSince([roomId], started, Now);
        Assert.That(ended[roomId]["content"]?["user_ids"]?.AsArray(), Is.Empty);
    }

    [Test]
    public async Task A_waiting_reader_wakes_on_typing_in_its_rooms_only()
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var (other, _, otherRoom) = await Server.PublicRoomAsync("alice", "bob");
        using var cancel = new CancellationTokenSource();
        var watch = Typing.Watch([roomId], cancel.Token);

        var (otherStatus, _) = await SetTypingAsync(other, otherRoom, Body(true, 30_000));
        Assert.That(otherStatus, Is.EqualTo(200));
        Assert.That(watch.IsCompleted, Is.False);
        await SetTypingAsync(bob, roomId, Body(true, 30_000));
        await watch.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(watch.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task Typing_for_another_user_is_403_M_FORBIDDEN()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var (status, body) = await SetTypingAsync(alice, roomId, Body(true, 30_000), bob.UserId);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        Assert.That(Typing.TypingUsers(roomId), Is.Empty);
    }

    [Test]
    public async Task Typing_in_a_room_one_is_not_in_is_403_M_FORBIDDEN()
    {
        var (_, _, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var stranger = await Server.RegisterAsync(Accounts.UniqueName("stranger"));
        var (status, body) = await SetTypingAsync(stranger, roomId, Body(true, 30_000));
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        Assert.That(Typing.TypingUsers(roomId), Is.Empty);
    }

    [TestCase("""{}""", "M_BAD_JSON")]
    [TestCase("""{"timeout": 30000}""", "M_BAD_JSON")]
    [TestCase("""{"typing": "yes"}""", "M_BAD_JSON")]
    [TestCase("""{"typing": true, "timeout": "30000"}""", "M_BAD_JSON")]
    [TestCase("""{"typing": true, "timeout": -1}""", "M_INVALID_PARAM")]
    [TestCase("""[true]""", "M_BAD_JSON")]
    [TestCase("""{"typing": tru""", "M_NOT_JSON")]
    public async Task A_body_of_the_wrong_shape_is_400(string raw, string errcode)
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, TypingPath(roomId, bob.UserId), raw, bob.AccessToken);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo(errcode));
    }

    [Test]
    public async Task Without_a_timeout_typing_lasts_the_default_and_stopping_needs_none()
    {
        var (_, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var (status, _) = await SetTypingAsync(bob, roomId, Body(true));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(Typing.TypingUsers(roomId), Is.EqualTo(new[] { bob.UserId }));
        (status, _) = await SetTypingAsync(bob, roomId, Body(false));
        Assert.That(status, Is.EqualTo(200));
        Assert.That(Typing.TypingUsers(roomId), Is.Empty);
    }

    [Test]
    public async Task After_a_restart_a_sync_from_an_older_position_learns_that_nobody_types()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync(Accounts.UniqueName("alice"));
        var roomId = await server.CreatePublicRoomAsync(alice);
        await server.SendAsync(HttpMethod.Put, TypingPath(roomId, alice.UserId), Body(true, 30_000), alice.AccessToken);
        var before = server.Host.Services.GetRequiredService<KvStore>().CommittedCount;
        await server.RestartAsync();

        var typing = server.Host.Services.GetRequiredService<TypingService>();
        var now = server.Host.Services.GetRequiredService<KvStore>().CommittedCount;
        Assert.That(typing.StartPosition, Is.GreaterThan(before));
        var reset = typing.ChangesSince([roomId], before, now);
        Assert.That(reset[roomId]["content"]?["user_ids"]?.AsArray(), Is.Empty);
        Assert.That(typing.ChangesSince([roomId], now, now), Is.Empty);
        Assert.That(typing.ChangesSince([roomId], 0, now), Is.Empty);
    }
}
