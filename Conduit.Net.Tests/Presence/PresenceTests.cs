using System.Text.Json.Nodes;
using Conduit.Net.Services.Presence;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Ephemeral;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Presence;

/// <summary>
/// Presence over HTTP (<c>GET/PUT /presence/{userId}/status</c>): setting one's own, who may read
/// whose, the checks on the body, and the presence stream sync reads.
/// </summary>
public sealed class PresenceTests : ServerFixture
{
    private PresenceService Presence => Server.Host.Services.GetRequiredService<PresenceService>();

    private ulong Now => Server.Host.Services.GetRequiredService<KvStore>().CommittedCount;

    private static string StatusPath(string userId) => $"/_matrix/client/v3/presence/{Uri.EscapeDataString(userId)}/status";

    private Task<TestSession> NewUserAsync() => Server.RegisterAsync(Accounts.UniqueName("presence"));

    private Task<(int Status, JsonNode? Body)> PutAsync(TestSession session, JsonObject body, string? userId = null) =>
        Server.SendAsync(HttpMethod.Put, StatusPath(userId ?? session.UserId), body, session.AccessToken);

    private Task<(int Status, JsonNode? Body)> GetAsync(TestSession session, string userId) =>
        Server.SendAsync(HttpMethod.Get, StatusPath(userId), accessToken: session.AccessToken);

    [Test]
    public async Task Ones_own_presence_reads_back_with_its_message_and_activity()
    {
        var session = await NewUserAsync();
        var (status, body) = await PutAsync(session, new JsonObject { ["presence"] = "online", ["status_msg"] = "Making cupcakes" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));

        var (getStatus, presence) = await GetAsync(session, session.UserId);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That((string?)presence?["presence"], Is.EqualTo("online"));
        Assert.That((string?)presence?["status_msg"], Is.EqualTo("Making cupcakes"));
        Assert.That((bool?)presence?["currently_active"], Is.True);
        Assert.That((long?)presence?["last_active_ago"], Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public async Task Setting_a_state_without_a_message_clears_the_message()
    {
        var session = await NewUserAsync();
        await PutAsync(session, new JsonObject { ["presence"] = "online", ["status_msg"] = "here" });
        await PutAsync(session, new JsonObject { ["presence"] = "unavailable" });
        var (_, presence) = await GetAsync(session, session.UserId);
        Assert.That((string?)presence?["presence"], Is.EqualTo("unavailable"));
        Assert.That(presence?.AsObject().ContainsKey("status_msg"), Is.False);
        Assert.That(presence?.AsObject().ContainsKey("currently_active"), Is.False);
    }

    [Test]
    public async Task A_user_who_never_set_presence_reads_as_offline()
    {
        var session = await NewUserAsync();
        var (status, presence) = await GetAsync(session, session.UserId);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(presence?.ToJsonString(), Is.EqualTo("""{"presence":"offline"}"""));
    }

    [Test]
    public async Task Setting_another_users_presence_is_403_M_FORBIDDEN()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var (status, body) = await PutAsync(alice, new JsonObject { ["presence"] = "online" }, bob.UserId);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task Presence_is_visible_to_users_who_share_a_room_and_403_to_others()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await PutAsync(bob, new JsonObject { ["presence"] = "online" });

        var (status, body) = await GetAsync(alice, bob.UserId);
        Assert.That(status, Is.EqualTo(403));
        Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));

        var roomId = await Server.CreatePublicRoomAsync(alice);
        await Server.JoinAsync(bob, roomId);
        var (sharedStatus, presence) = await GetAsync(alice, bob.UserId);
        Assert.That(sharedStatus, Is.EqualTo(200));
        Assert.That((string?)presence?["presence"], Is.EqualTo("online"));

        await Server.LeaveAsync(bob, roomId);
        (status, _) = await GetAsync(alice, bob.UserId);
        Assert.That(status, Is.EqualTo(403));
    }

    [TestCase("""{"presence": "busy"}""", "M_INVALID_PARAM")]
    [TestCase("""{"presence": "Online"}""", "M_INVALID_PARAM")]
    [TestCase("""{"status_msg": "no state"}""", "M_BAD_JSON")]
    [TestCase("""{"presence": 1}""", "M_BAD_JSON")]
    [TestCase("""{"presence": "online", "status_msg": 5}""", "M_BAD_JSON")]
    [TestCase("""["online"]""", "M_BAD_JSON")]
    [TestCase("""{"presence": """, "M_NOT_JSON")]
    public async Task An_invalid_presence_body_is_400(string raw, string errcode)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, StatusPath(session.UserId), raw, session.AccessToken);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That(body.ErrCode(), Is.EqualTo(errcode));
    }

    [Test]
    public async Task The_stream_reports_room_mates_and_oneself_but_not_strangers()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var stranger = await NewUserAsync();
        var roomId = await Server.CreatePublicRoomAsync(alice);
        await Server.JoinAsync(bob, roomId);
        var start = Now;

        await PutAsync(bob, new JsonObject { ["presence"] = "online", ["status_msg"] = "hi" });
        await PutAsync(stranger, new JsonObject { ["presence"] = "online" });
        await PutAsync(alice, new JsonObject { ["presence"] = "unavailable" });
        var end = Now;

        var events = Presence.ChangesSince(alice.UserId, [roomId], start, end);
        Assert.That(events.Select(e => (string)e["sender"]!), Is.EqualTo(new[] { bob.UserId, alice.UserId }));
        var bobs = events[0];
        Assert.That((string?)bobs["type"], Is.EqualTo("m.presence"));
        Assert.That((string?)bobs["content"]?["presence"], Is.EqualTo("online"));
        Assert.That((string?)bobs["content"]?["status_msg"], Is.EqualTo("hi"));
        Assert.That((string?)bobs["content"]?["displayname"], Is.EqualTo(bob.UserId[1..bob.UserId.IndexOf(':', StringComparison.Ordinal)]));

        Assert.That(Presence.ChangesSince(alice.UserId, [roomId], end, end), Is.Empty);
        Assert.That(Presence.ChangesSince(stranger.UserId, [], start, end).Select(e => (string)e["sender"]!), Is.EqualTo(new[] { stranger.UserId }));
    }

    [Test]
    public async Task A_waiting_reader_wakes_on_a_room_mates_change_and_not_a_strangers()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var stranger = await NewUserAsync();
        var roomId = await Server.CreatePublicRoomAsync(alice);
        await Server.JoinAsync(bob, roomId);
        using var cancel = new CancellationTokenSource();
        var watch = Presence.Watch(alice.UserId, [roomId], cancel.Token);

        var (strangerStatus, _) = await PutAsync(stranger, new JsonObject { ["presence"] = "online" });
        Assert.That(strangerStatus, Is.EqualTo(200));
        Assert.That(watch.IsCompleted, Is.False);
        await PutAsync(bob, new JsonObject { ["presence"] = "online" });
        await watch.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(watch.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task Sending_a_message_is_activity_that_brings_an_idle_user_online()
    {
        var session = await NewUserAsync();
        var roomId = await Server.CreatePublicRoomAsync(session);
        await PutAsync(session, new JsonObject { ["presence"] = "unavailable" });

        await Server.SendMessageAsync(session, roomId, "back");
        var (_, presence) = await GetAsync(session, session.UserId);
        Assert.That((string?)presence?["presence"], Is.EqualTo("online"));
        Assert.That((bool?)presence?["currently_active"], Is.True);
    }
}
