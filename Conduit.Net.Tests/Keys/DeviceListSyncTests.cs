using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Ephemeral;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Keys;

/// <summary>
/// <c>device_lists</c> in incremental syncs: a device-list change is seen by exactly the users who
/// share a room with its owner, a new room-mate counts as changed, and a user with whom the last
/// shared room is gone appears in <c>left</c>.
/// </summary>
public sealed class DeviceListSyncTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<TestSession> NewUserAsync() => _server.RegisterAsync(Accounts.UniqueName("devlist"));

    private static List<string?> Changed(JsonNode sync) => [.. sync["device_lists"]!["changed"]!.AsArray().Select(u => (string?)u)];

    private static List<string?> Left(JsonNode sync) => [.. sync["device_lists"]!["left"]!.AsArray().Select(u => (string?)u)];

    [Test]
    public async Task A_key_upload_is_seen_by_a_room_mate_and_by_the_uploader_but_not_by_a_stranger()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var stranger = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        var aliceSince = (await _server.SyncAsync(alice)).NextBatch();
        var bobSince = (await _server.SyncAsync(bob)).NextBatch();
        var strangerSince = (await _server.SyncAsync(stranger)).NextBatch();

        using var key = new TestKey();
        await _server.UploadAsync(bob, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, key) });

        Assert.That(Changed(await _server.SyncAsync(alice, since: aliceSince)), Is.EqualTo(new[] { bob.UserId }));
        Assert.That(Changed(await _server.SyncAsync(bob, since: bobSince)), Is.EqualTo(new[] { bob.UserId }));
        Assert.That(Changed(await _server.SyncAsync(stranger, since: strangerSince)), Is.Empty);
    }

    [Test]
    public async Task An_identical_re_upload_is_no_change_and_a_changed_one_is()
    {
        var alice = await NewUserAsync();
        using var key = new TestKey();
        await _server.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key) });
        var since = (await _server.SyncAsync(alice)).NextBatch();
        await _server.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key) });
        var same = await _server.SyncAsync(alice, since: since);
        Assert.That(Changed(same), Is.Empty);

        await _server.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key, curve: "rotated") });
        Assert.That(Changed(await _server.SyncAsync(alice, since: same.NextBatch())), Is.EqualTo(new[] { alice.UserId }));
    }

    [Test]
    public async Task Users_who_newly_share_a_room_see_each_other_as_changed()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        var aliceSince = (await _server.SyncAsync(alice)).NextBatch();
        var bobSince = (await _server.SyncAsync(bob)).NextBatch();

        await _server.JoinAsync(bob, roomId);
        Assert.That(Changed(await _server.SyncAsync(alice, since: aliceSince)), Does.Contain(bob.UserId));
        Assert.That(Changed(await _server.SyncAsync(bob, since: bobSince)), Does.Contain(alice.UserId));
    }

    [Test]
    public async Task After_the_last_shared_room_is_left_the_other_user_is_in_left()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var first = await _server.CreatePublicRoomAsync(alice);
        var second = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, first);
        await _server.JoinAsync(bob, second);
        var aliceSince = (await _server.SyncAsync(alice)).NextBatch();
        var bobSince = (await _server.SyncAsync(bob)).NextBatch();

        await _server.LeaveAsync(bob, first);
        var stillShared = await _server.SyncAsync(alice, since: aliceSince);
        Assert.That(Left(stillShared), Is.Empty, "one room is still shared");

        await _server.LeaveAsync(bob, second);
        Assert.That(Left(await _server.SyncAsync(alice, since: stillShared.NextBatch())), Is.EqualTo(new[] { bob.UserId }));
        Assert.That(Left(await _server.SyncAsync(bob, since: bobSince)), Is.EqualTo(new[] { alice.UserId }));
    }

    [Test]
    public async Task A_room_mates_new_display_name_is_not_a_device_list_change()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/profile/{Uri.EscapeDataString(bob.UserId)}/displayname",
            new JsonObject { ["displayname"] = "Bobby" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var sync = await _server.SyncAsync(alice, since: since);
        Assert.That(sync.Joined(roomId)?.TimelineEvents().Types(), Does.Contain("m.room.member"), "the member event reached the room");
        Assert.That(Changed(sync), Is.Empty);
    }

    [Test]
    public async Task Deleting_a_device_with_keys_is_a_change_for_room_mates()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var phone = await _server.LoginAsync(bob.UserId);
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        using var key = new TestKey();
        await _server.UploadAsync(phone, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(phone, key) });
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/logout", new JsonObject(), phone.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(Changed(await _server.SyncAsync(alice, since: since)), Is.EqualTo(new[] { bob.UserId }));
    }

    [Test]
    public async Task Renaming_a_device_with_keys_is_a_change_for_room_mates()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        using var key = new TestKey();
        await _server.UploadAsync(bob, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, key) });
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/devices/{bob.DeviceId}", new JsonObject { ["display_name"] = "Bob's laptop" }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(Changed(await _server.SyncAsync(alice, since: since)), Is.EqualTo(new[] { bob.UserId }));
    }

    [Test]
    public async Task A_deactivated_users_keys_vanish_and_room_mates_see_the_change()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        using var key = new TestKey();
        await _server.UploadAsync(bob, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, key), ["one_time_keys"] = KeysApi.OneTimeKeys("X", 1) });
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var (status, body) = await _server.SendAsync(HttpMethod.Post, "/_matrix/client/v3/account/deactivate",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(bob.UserId) }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(Changed(await _server.SyncAsync(alice, since: since)), Does.Contain(bob.UserId));
        var query = await _server.QueryAsync(alice, new JsonObject { [bob.UserId] = new JsonArray() });
        Assert.That(query["device_keys"]![bob.UserId]!.AsObject(), Is.Empty);
        Assert.That(await _server.ClaimOneAsync(alice, bob), Is.Null);
    }

    [Test]
    public async Task A_long_poll_wakes_when_a_room_mate_uploads_keys()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        var since = (await _server.SyncAsync(alice)).NextBatch();

        var poll = _server.SyncAsync(alice, since: since, timeoutMs: 60_000);
        using var key = new TestKey();
        await _server.UploadAsync(bob, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, key) });
        Assert.That(Changed(await poll), Is.EqualTo(new[] { bob.UserId }));
    }
}
