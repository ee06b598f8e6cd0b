using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.ToDevice;

/// <summary>Dehydrated devices (MSC3814) under <c>/unstable/org.matrix.msc3814.v1/dehydrated_device</c>.</summary>
public sealed class DehydratedDeviceTests
{
    private const string Path = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device";

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static JsonObject Dehydrated(TestSession who, string deviceId, string pickle) => new()
    {
        ["device_id"] = deviceId,
        ["device_data"] = new JsonObject { ["algorithm"] = "org.matrix.msc3814.v1.olm", ["device_pickle"] = pickle },
        ["initial_device_display_name"] = "Dehydrated device",
        ["device_keys"] = new JsonObject
        {
            ["user_id"] = who.UserId,
            ["device_id"] = deviceId,
            ["algorithms"] = new JsonArray("m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"),
            ["keys"] = new JsonObject { [$"curve25519:{deviceId}"] = "curve", [$"ed25519:{deviceId}"] = "ed" },
            ["signatures"] = new JsonObject { [who.UserId] = new JsonObject { [$"ed25519:{deviceId}"] = "sig" } },
            ["dehydrated"] = true,
        },
        ["one_time_keys"] = new JsonObject { ["signed_curve25519:AAAA"] = new JsonObject { ["key"] = "otk", ["signatures"] = new JsonObject() } },
    };

    private async Task PutAsync(TestSession who, string deviceId, string pickle = "p")
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Put, Path, Dehydrated(who, deviceId, pickle), who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["device_id"], Is.EqualTo(deviceId));
    }

    private async Task<JsonNode> EventsAsync(TestSession who, string deviceId, string? nextBatch)
    {
        var body = nextBatch is null ? new JsonObject() : new JsonObject { ["next_batch"] = nextBatch };
        var (status, json) = await _server.SendAsync(HttpMethod.Post, $"{Path}/{RoomApi.Escape(deviceId)}/events", body, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
        Assert.That((string?)json!["next_batch"], Is.Not.Null);
        return json;
    }

    private async Task SendToDeviceAsync(TestSession from, string userId, string deviceId, int n)
    {
        var body = new JsonObject { ["messages"] = new JsonObject { [userId] = new JsonObject { [deviceId] = new JsonObject { ["n"] = n } } } };
        var (status, json) = await _server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/sendToDevice/m.room.encrypted/{RoomApi.NewTxnId()}", body, from.AccessToken);
        Assert.That(status, Is.EqualTo(200), json?.ToJsonString());
    }

    [Test]
    public async Task Without_a_dehydrated_device_get_and_delete_are_404_M_NOT_FOUND()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (status, body) = await _server.SendAsync(HttpMethod.Get, Path, accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await _server.SendAsync(HttpMethod.Delete, Path, accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task An_uploaded_device_comes_back_with_its_data_and_its_keys_are_published()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        await PutAsync(alice, "DEHYDRATED1", "pickle1");

        var (status, body) = await _server.SendAsync(HttpMethod.Get, Path, accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["device_id"], Is.EqualTo("DEHYDRATED1"));
        Assert.That((string?)body["device_data"]!["device_pickle"], Is.EqualTo("pickle1"));

        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        (status, body) = await _server.SendAsync(HttpMethod.Post, $"{RoomApi.Client}/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [alice.UserId] = new JsonArray() } }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((bool?)body!["device_keys"]![alice.UserId]!["DEHYDRATED1"]?["dehydrated"], Is.True);
        (status, body) = await _server.SendAsync(HttpMethod.Post, $"{RoomApi.Client}/keys/claim",
            new JsonObject { ["one_time_keys"] = new JsonObject { [alice.UserId] = new JsonObject { ["DEHYDRATED1"] = "signed_curve25519" } } }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["one_time_keys"]![alice.UserId]!["DEHYDRATED1"]!["signed_curve25519:AAAA"]!["key"], Is.EqualTo("otk"));
    }

    [Test]
    public async Task Messages_to_the_dehydrated_device_are_read_page_by_page_and_never_deleted()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await PutAsync(alice, "DEHYDRATED2");
        for (var n = 1; n <= 105; n++)
            await SendToDeviceAsync(bob, alice.UserId, "DEHYDRATED2", n);

        var first = await EventsAsync(alice, "DEHYDRATED2", null);
        Assert.That(first["events"]!.AsArray().Select(e => (int)e!["content"]!["n"]!), Is.EqualTo(Enumerable.Range(1, 100)));
        Assert.That((string?)first["events"]![0]!["sender"], Is.EqualTo(bob.UserId));
        var second = await EventsAsync(alice, "DEHYDRATED2", (string)first["next_batch"]!);
        Assert.That(second["events"]!.AsArray().Select(e => (int)e!["content"]!["n"]!), Is.EqualTo(Enumerable.Range(101, 5)));
        var last = await EventsAsync(alice, "DEHYDRATED2", (string)second["next_batch"]!);
        Assert.That(last["events"]!.AsArray(), Is.Empty);

        var again = await EventsAsync(alice, "DEHYDRATED2", null);
        Assert.That(again["events"]!.AsArray(), Has.Count.EqualTo(100), "reading deletes nothing");
    }

    [Test]
    public async Task Events_of_any_other_device_are_403_M_FORBIDDEN()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        await PutAsync(alice, "DEHYDRATED3");

        var (status, body) = await _server.SendAsync(HttpMethod.Post, $"{Path}/{alice.DeviceId}/events", new JsonObject(), alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
    }

    [Test]
    public async Task A_new_upload_replaces_the_old_device_with_its_keys_and_messages_and_delete_removes_it()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await PutAsync(alice, "OLDDEHYDRATED");
        await SendToDeviceAsync(bob, alice.UserId, "OLDDEHYDRATED", 1);
        await PutAsync(alice, "NEWDEHYDRATED");

        var devices = (await _server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/devices", accessToken: alice.AccessToken)).Body!["devices"]!.AsArray();
        Assert.That(devices.Select(d => (string?)d!["device_id"]), Does.Contain("NEWDEHYDRATED").And.No.Contain("OLDDEHYDRATED"));
        var (status, body) = await _server.SendAsync(HttpMethod.Post, $"{Path}/OLDDEHYDRATED/events", new JsonObject(), alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((await EventsAsync(alice, "NEWDEHYDRATED", null))["events"]!.AsArray(), Is.Empty);

        (status, body) = await _server.SendAsync(HttpMethod.Delete, Path, accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["device_id"], Is.EqualTo("NEWDEHYDRATED"));
        Assert.That((await _server.SendAsync(HttpMethod.Get, Path, accessToken: alice.AccessToken)).Status, Is.EqualTo(404));
    }

    [Test]
    public async Task The_id_of_a_device_the_user_logs_in_with_is_refused_and_so_are_keys_of_another_device()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (status, body) = await _server.SendAsync(HttpMethod.Put, Path, Dehydrated(alice, alice.DeviceId, "p"), alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));

        var wrongKeys = Dehydrated(alice, "DEHYDRATED4", "p");
        wrongKeys["device_keys"]!["device_id"] = "SOMETHINGELSE";
        (status, body) = await _server.SendAsync(HttpMethod.Put, Path, wrongKeys, alice.AccessToken);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        Assert.That((await _server.SendAsync(HttpMethod.Get, Path, accessToken: alice.AccessToken)).Status, Is.EqualTo(404));
        var devices = (await _server.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/devices", accessToken: alice.AccessToken)).Body!["devices"]!.AsArray();
        Assert.That(devices.Select(d => (string?)d!["device_id"]), Does.Not.Contain("DEHYDRATED4"));
    }

    [Test]
    public async Task A_sync_of_a_real_device_leaves_the_dehydrated_inbox_alone()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        await PutAsync(alice, "DEHYDRATED5");
        await SendToDeviceAsync(bob, alice.UserId, "*", 1);

        var sync = await _server.SyncAsync(alice);
        await _server.SyncAsync(alice, since: sync.NextBatch());

        Assert.That((await EventsAsync(alice, "DEHYDRATED5", null))["events"]!.AsArray(), Has.Count.EqualTo(1));
    }
}
