using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Config;
using Conduit.Net.Services.Ephemeral;
using Conduit.Net.Services.Presence;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Ephemeral;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Keys;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The EDUs of the spec's "Device Management", "End-to-End Encryption", "Send-to-device messaging" and
/// "Presence" between real servers: what A sends for its users' changes (seen by a recorder that is
/// in A's room and records instead of applying), and what B makes of A's EDUs through the client API.
/// </summary>
public sealed class FederationEduTests : FederatedFixture
{
    private const string Client = "/_matrix/client/v3";

    private readonly ConcurrentQueue<JsonObject> _recorded = new();
    private RemoteServer _recorder = null!;
    private TestServer _recorderServer = null!;

    /// <summary>
    /// A server that records the EDUs A sends it. Federation off leaves the /send path to the recorder,
    /// which checks no signature; A knows its key from <see cref="RemoteServer.PublishTo"/>.
    /// </summary>
    [OneTimeSetUp]
    public async Task StartRecorderAsync()
    {
        var port = FederatedServer.ReservePort();
        _recorder = new RemoteServer($"localhost:{port}");
        _recorder.PublishTo(A);
        _recorderServer = await FederatedServer.StartAsync(
            c => c with { ServerName = _recorder.Name, Port = port, AllowFederation = false },
            routes => routes.MapPut("/_matrix/federation/v1/send/{txnId}", async (HttpContext http) =>
            {
                var body = await http.ReadObjectOrNullAsync();
                foreach (var edu in body!["edus"]!.AsArray())
                    _recorded.Enqueue(edu!.AsObject());
                await http.WriteJsonAsync(new JsonObject { ["pdus"] = new JsonObject() });
            }));
    }

    [OneTimeTearDown]
    public async Task StopRecorderAsync()
    {
        await _recorderServer.DisposeAsync();
        _recorder.Dispose();
    }

    [Test]
    public async Task A_to_device_message_for_a_remote_user_reaches_the_named_device_and_star_reaches_every_device()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var carol = await NewUserAsync(B, "carol");
        var carolsOther = await B.LoginAsync(carol.UserId);

        await SendToDeviceAsync(alice, "org.example.ping", new JsonObject
        {
            [bob.UserId] = new JsonObject { [bob.DeviceId] = new JsonObject { ["n"] = 1 } },
            [carol.UserId] = new JsonObject { ["*"] = new JsonObject { ["n"] = 2 } },
        });

        foreach (var (who, n) in new[] { (bob, 1), (carol, 2), (carolsOther, 2) })
        {
            var events = await ToDeviceEventsAsync(B, who);
            Assert.That(events, Has.Count.EqualTo(1), who.DeviceId);
            Assert.That((string?)events[0]["sender"], Is.EqualTo(alice.UserId));
            Assert.That((string?)events[0]["type"], Is.EqualTo("org.example.ping"));
            Assert.That((int?)events[0]["content"]?["n"], Is.EqualTo(n));
        }
    }

    [Test]
    public async Task An_acknowledged_to_device_message_reaches_a_remote_user_whose_server_was_down()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");

        await B.RestartAsync(config =>
        {
            SendToDeviceAsync(alice, "org.example.while_down", new JsonObject
            {
                [bob.UserId] = new JsonObject { [bob.DeviceId] = new JsonObject { ["sent"] = "while down" } },
            }).GetAwaiter().GetResult();
            return config;
        });

        var events = await ToDeviceEventsAsync(B, bob);
        Assert.That(events.Select(e => (string?)e["content"]?["sent"]), Is.EqualTo(SyncApi.Expect("while down")));
    }

    [Test]
    public async Task A_direct_to_device_EDU_is_delivered_once_per_message_id_and_only_for_a_sender_of_the_origin()
    {
        var bob = await NewUserAsync(B, "bob");
        var sender = $"@alice:{A.Name()}";
        var messageId = Guid.NewGuid().ToString("N");
        JsonObject Edu(string from, string id, int n) => new()
        {
            ["edu_type"] = "m.direct_to_device",
            ["content"] = new JsonObject
            {
                ["sender"] = from,
                ["type"] = "org.example.ping",
                ["message_id"] = id,
                ["messages"] = new JsonObject { [bob.UserId] = new JsonObject { [bob.DeviceId] = new JsonObject { ["n"] = n } } },
            },
        };

        await SendTransactionAsync([Edu(sender, messageId, 1), Edu("@mallory:elsewhere.example.org", Guid.NewGuid().ToString("N"), 2)]);
        await SendTransactionAsync([Edu(sender, messageId, 3)]);
        await SendTransactionAsync([Edu(sender, Guid.NewGuid().ToString("N"), 4)]);

        var events = await ToDeviceEventsAsync(B, bob, atLeast: 2);
        Assert.That(events.Select(e => (int?)e["content"]?["n"]), Is.EqualTo(new int?[] { 1, 4 }));
        Assert.That(events.Select(e => (string?)e["sender"]), Has.All.EqualTo(sender));
    }

    [Test]
    public async Task A_to_device_message_goes_out_as_one_direct_to_device_EDU_per_server_with_a_message_id()
    {
        var alice = await NewUserAsync(A, "alice");
        var first = _recorder.User(Accounts.UniqueName("rec"));
        var second = _recorder.User(Accounts.UniqueName("rec"));

        await SendToDeviceAsync(alice, "org.example.ping", new JsonObject
        {
            [first] = new JsonObject { ["DEV1"] = new JsonObject { ["n"] = 1 } },
            [second] = new JsonObject { ["*"] = new JsonObject { ["n"] = 2 } },
        });

        var edu = (await RecordedAsync("m.direct_to_device", c => (string?)c["sender"] == alice.UserId)).Single();
        Assert.Multiple(() =>
        {
            Assert.That((string?)edu["type"], Is.EqualTo("org.example.ping"));
            Assert.That((string?)edu["message_id"], Is.Not.Null.And.Not.Empty);
            Assert.That((int?)edu["messages"]?[first]?["DEV1"]?["n"], Is.EqualTo(1));
            Assert.That((int?)edu["messages"]?[second]?["*"]?["n"], Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Device_changes_go_out_as_device_list_updates_chained_by_prev_id_with_the_stream_id_of_user_devices()
    {
        var alice = await UserSharingARoomWithTheRecorderAsync();
        using var key = new TestKey();

        await A.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key) });
        var uploaded = await DeviceUpdateAsync(alice, 1);
        var afterUpload = await UserDevicesAsync(alice);
        var (status, body) = await A.SendAsync(HttpMethod.Put, $"{Client}/devices/{alice.DeviceId}", new JsonObject { ["display_name"] = "phone" }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var renamed = await DeviceUpdateAsync(alice, 2);
        var afterRename = await UserDevicesAsync(alice);
        (status, body) = await A.SendAsync(HttpMethod.Post, $"{Client}/logout", new JsonObject(), alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var deleted = await DeviceUpdateAsync(alice, 3);
        var afterDelete = await UserDevicesAsync(alice);

        Assert.Multiple(() =>
        {
            Assert.That((string?)uploaded["device_id"], Is.EqualTo(alice.DeviceId));
            Assert.That((string?)uploaded["keys"]?["keys"]?[$"ed25519:{alice.DeviceId}"], Is.EqualTo(key.Public));
            Assert.That(uploaded["prev_id"]!.AsArray(), Is.Empty);
            Assert.That((ulong?)uploaded["stream_id"], Is.EqualTo((ulong?)afterUpload["stream_id"]));

            Assert.That((string?)renamed["device_display_name"], Is.EqualTo("phone"));
            Assert.That(renamed["prev_id"]!.AsArray().Select(p => (ulong?)p), Is.EqualTo(new[] { (ulong?)uploaded["stream_id"] }));
            Assert.That((ulong?)renamed["stream_id"], Is.EqualTo((ulong?)afterRename["stream_id"]));

            Assert.That((bool?)deleted["deleted"], Is.True);
            Assert.That(deleted["prev_id"]!.AsArray().Select(p => (ulong?)p), Is.EqualTo(new[] { (ulong?)renamed["stream_id"] }));
            Assert.That((ulong?)deleted["stream_id"], Is.EqualTo((ulong?)afterDelete["stream_id"]));
            Assert.That(afterDelete["devices"]!.AsArray(), Is.Empty);
        });
    }

    [Test]
    public async Task A_cross_signing_key_upload_goes_out_as_a_signing_key_update()
    {
        var alice = await UserSharingARoomWithTheRecorderAsync();
        using var master = new TestKey();
        using var selfSigning = new TestKey();

        var (status, body) = await A.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(alice.UserId, "master", master),
            ["self_signing_key"] = KeysApi.CrossSigningKey(alice.UserId, "self_signing", selfSigning, master),
        }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var update = (await RecordedAsync("m.signing_key_update", c => (string?)c["user_id"] == alice.UserId)).Single();
        Assert.That(update["master_key"]?["keys"]?[$"ed25519:{master.Public}"]?.GetValue<string>(), Is.EqualTo(master.Public));
        Assert.That(update["self_signing_key"]?["keys"]?[$"ed25519:{selfSigning.Public}"]?.GetValue<string>(), Is.EqualTo(selfSigning.Public));
    }

    [Test]
    public async Task A_remote_user_is_in_device_lists_changed_when_he_first_shares_a_room_and_when_his_server_reports_a_change()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, alice);
        var beforeJoin = (await B.SyncAsync(bob)).NextBatch();
        await JoinViaAsync(B, bob, roomId, A);

        var joined = await B.SyncAsync(bob, since: beforeJoin);
        Assert.That(Changed(joined), Does.Contain(alice.UserId), "a new room-mate");

        // The long-poll wakes for the EDU: the key upload happens after it started.
        var since = joined.NextBatch();
        var waiting = B.SyncAsync(bob, since: since, timeoutMs: 30_000);
        using var key = new TestKey();
        await A.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key) });
        var changed = await waiting;
        for (var i = 0; i < 5 && !Changed(changed).Contains(alice.UserId); i++)
            changed = await B.SyncAsync(bob, since: since, timeoutMs: 30_000);

        Assert.That(Changed(changed), Is.EqualTo(SyncApi.Expect(alice.UserId)));
        var keys = await B.QueryAsync(bob, new JsonObject { [alice.UserId] = new JsonArray() });
        Assert.That((string?)keys["device_keys"]?[alice.UserId]?[alice.DeviceId]?["keys"]?[$"ed25519:{alice.DeviceId}"], Is.EqualTo(key.Public));
    }

    [Test]
    public async Task A_remote_user_who_joins_a_local_room_is_in_device_lists_changed_of_its_members()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, alice);
        var since = (await A.SyncAsync(alice)).NextBatch();

        await JoinViaAsync(B, bob, roomId, A);

        List<string?> changed = [];
        await Poll.UntilAsync(async () => (changed = Changed(await A.SyncAsync(alice, since: since))).Count > 0);
        Assert.That(changed, Is.EqualTo(SyncApi.Expect(bob.UserId)));
    }

    [Test]
    public async Task A_device_list_update_about_another_server_s_user_changes_nothing()
    {
        var (_, bob) = await RoomMatesOnAAndBAsync();
        var since = (await B.SyncAsync(bob)).NextBatch();

        await SendTransactionAsync([new JsonObject
        {
            ["edu_type"] = "m.device_list_update",
            ["content"] = new JsonObject { ["user_id"] = bob.UserId, ["device_id"] = "FORGED", ["stream_id"] = 1, ["prev_id"] = new JsonArray(), ["deleted"] = true },
        }]);

        Assert.That(Changed(await B.SyncAsync(bob, since: since)), Is.Empty);
    }

    [Test]
    public async Task A_local_cross_signing_key_upload_puts_the_user_in_device_lists_changed_on_the_other_server()
    {
        var (alice, bob) = await RoomMatesOnAAndBAsync();
        var since = (await B.SyncAsync(bob)).NextBatch();
        using var master = new TestKey();

        var (status, body) = await A.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(alice.UserId, "master", master),
        }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        List<string?> changed = [];
        await Poll.UntilAsync(async () => (changed = Changed(await B.SyncAsync(bob, since: since))).Count > 0);
        Assert.That(changed, Is.EqualTo(SyncApi.Expect(alice.UserId)));
        var keys = await B.QueryAsync(bob, new JsonObject { [alice.UserId] = new JsonArray() });
        Assert.That((string?)keys["master_keys"]?[alice.UserId]?["keys"]?[$"ed25519:{master.Public}"], Is.EqualTo(master.Public));
    }

    [Test]
    public async Task A_presence_change_goes_out_as_a_presence_EDU_to_the_servers_sharing_a_room()
    {
        var alice = await UserSharingARoomWithTheRecorderAsync();

        await SetPresenceAsync(A, alice, "online", "writing tests");

        // The recorder got alice's presence of before as well, when it joined her room.
        var push = (await RecordedAsync("m.presence", c => c["push"]!.AsArray().Any(p => (string?)p?["user_id"] == alice.UserId && (string?)p["status_msg"] == "writing tests")))
            .SelectMany(c => c["push"]!.AsArray()).OfType<JsonObject>().Last(p => (string?)p["user_id"] == alice.UserId);
        Assert.Multiple(() =>
        {
            Assert.That((string?)push["presence"], Is.EqualTo("online"));
            Assert.That((string?)push["status_msg"], Is.EqualTo("writing tests"));
            Assert.That((long?)push["last_active_ago"], Is.GreaterThanOrEqualTo(0));
            Assert.That((bool?)push["currently_active"], Is.True);
        });
    }

    [Test]
    public async Task A_remote_user_s_presence_reaches_the_sync_and_presence_status_of_a_local_room_mate()
    {
        var (alice, bob) = await RoomMatesOnAAndBAsync();
        var since = (await B.SyncAsync(bob)).NextBatch();

        await SetPresenceAsync(A, alice, "unavailable", "out for lunch");

        JsonObject? seen = null;
        await Poll.UntilAsync(async () =>
        {
            var sync = await B.SyncAsync(bob, since: since);
            seen = sync["presence"]?["events"]?.AsArray().OfType<JsonObject>().LastOrDefault(e => (string?)e["sender"] == alice.UserId);
            return (string?)seen?["content"]?["presence"] == "unavailable";
        });
        Assert.That((string?)seen?["content"]?["status_msg"], Is.EqualTo("out for lunch"));
        var (status, body) = await B.SendAsync(HttpMethod.Get, $"{Client}/presence/{RoomApi.Escape(alice.UserId)}/status", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["presence"], Is.EqualTo("unavailable"));
        Assert.That((string?)body["status_msg"], Is.EqualTo("out for lunch"));
    }

    [Test]
    public async Task A_presence_EDU_about_another_server_s_user_changes_nothing()
    {
        var (_, bob) = await RoomMatesOnAAndBAsync();
        await SetPresenceAsync(B, bob, "online", "here");

        await SendTransactionAsync([new JsonObject
        {
            ["edu_type"] = "m.presence",
            ["content"] = new JsonObject
            {
                ["push"] = new JsonArray(new JsonObject { ["user_id"] = bob.UserId, ["presence"] = "offline", ["status_msg"] = "forged", ["last_active_ago"] = 0 }),
            },
        }]);

        var (status, body) = await B.SendAsync(HttpMethod.Get, $"{Client}/presence/{RoomApi.Escape(bob.UserId)}/status", accessToken: bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)body!["status_msg"], Is.EqualTo("here"));
        Assert.That((string?)body["presence"], Is.EqualTo("online"));
    }

    [Test]
    public async Task Servers_that_newly_share_a_room_are_told_the_current_presence_of_each_other_s_users_in_it()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        await SetPresenceAsync(A, alice, "online", "set before the join");
        await SetPresenceAsync(B, bob, "unavailable", "set before the join too");

        await JoinViaAsync(B, bob, await PublicRoomAsync(A, alice), A);

        await Poll.UntilAsync(async () => (string?)(await PresenceStatusAsync(B, bob, alice))["status_msg"] == "set before the join");
        await Poll.UntilAsync(async () => (string?)(await PresenceStatusAsync(A, alice, bob))["status_msg"] == "set before the join too");
        Assert.That((string?)(await PresenceStatusAsync(A, alice, bob))["presence"], Is.EqualTo("unavailable"));
    }

    [Test]
    public async Task A_remote_user_without_word_from_his_server_for_thirty_minutes_is_offline_and_his_last_active_ago_grows()
    {
        var clock = new ManualTime();
        var (c, alice, carol) = await RoomMateOfAOnAClockAsync(clock, "around");
        await using var stop = c;
        var since = (await c.SyncAsync(carol)).NextBatch();

        clock.Advance(PresenceService.RemoteTimeout - TimeSpan.FromMinutes(1));
        var before = await PresenceStatusAsync(c, carol, alice);
        Assert.That((string?)before["presence"], Is.EqualTo("online"));

        clock.Advance(TimeSpan.FromMinutes(1));
        var after = await PresenceStatusAsync(c, carol, alice);
        Assert.That((string?)after["presence"], Is.EqualTo("offline"));
        Assert.That((string?)after["status_msg"], Is.EqualTo("around"));
        Assert.That((long)after["last_active_ago"]!, Is.GreaterThanOrEqualTo((long)PresenceService.RemoteTimeout.TotalMilliseconds));
        Assert.That((long)after["last_active_ago"]!, Is.GreaterThan((long)before["last_active_ago"]!));
        var sync = await c.SyncAsync(carol, since: since);
        var seen = sync["presence"]?["events"]?.AsArray().OfType<JsonObject>().LastOrDefault(e => (string?)e["sender"] == alice.UserId);
        Assert.That((string?)seen?["content"]?["presence"], Is.EqualTo("offline"), sync.ToJsonString());
    }

    [Test]
    public async Task A_remote_user_whose_server_speaks_again_stays_online_past_the_timeout()
    {
        var clock = new ManualTime();
        var (c, alice, carol) = await RoomMateOfAOnAClockAsync(clock, "first");
        await using var stop = c;

        clock.Advance(PresenceService.RemoteTimeout - TimeSpan.FromMinutes(1));
        await SetPresenceAsync(A, alice, "online", "second");
        await Poll.UntilAsync(async () => (string?)(await PresenceStatusAsync(c, carol, alice))["status_msg"] == "second");
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.That((string?)(await PresenceStatusAsync(c, carol, alice))["presence"], Is.EqualTo("online"));
    }

    /// <summary>
    /// A federating server whose presence runs on <paramref name="clock"/> (everything else on the real
    /// one), with carol in a room of A's alice; alice set her presence online with
    /// <paramref name="statusMessage"/>, which carol sees.
    /// </summary>
    private async Task<(TestServer Server, TestSession Alice, TestSession Carol)> RoomMateOfAOnAClockAsync(ManualTime clock, string statusMessage)
    {
        var c = await FederatedServer.StartAsync(configureServices: services => services.AddSingleton(sp => new PresenceService(
            sp.GetRequiredService<KvStore>(), sp.GetRequiredService<RoomAccess>(), sp.GetRequiredService<ProfileService>(),
            sp.GetRequiredService<ServerConfig>(), clock, sp.GetRequiredService<ILogger<PresenceService>>())));
        var alice = await NewUserAsync(A, "alice");
        var carol = await NewUserAsync(c, "carol");
        await JoinViaAsync(c, carol, await PublicRoomAsync(A, alice), A);
        await SetPresenceAsync(A, alice, "online", statusMessage);
        await Poll.UntilAsync(async () => (string?)(await PresenceStatusAsync(c, carol, alice))["status_msg"] == statusMessage);
        return (c, alice, carol);
    }

    private static async Task<JsonObject> PresenceStatusAsync(TestServer server, TestSession requester, TestSession user)
    {
        var (status, body) = await server.SendAsync(HttpMethod.Get, $"{Client}/presence/{RoomApi.Escape(user.UserId)}/status", accessToken: requester.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!.AsObject();
    }

    /// <summary>A user of A and a user of B joined to a public room of A's user.</summary>
    private async Task<(TestSession OnA, TestSession OnB)> RoomMatesOnAAndBAsync()
    {
        var alice = await NewUserAsync(A, "alice");
        var bob = await NewUserAsync(B, "bob");
        var roomId = await PublicRoomAsync(A, alice);
        await JoinViaAsync(B, bob, roomId, A);
        return (alice, bob);
    }

    private static async Task SetPresenceAsync(TestServer server, TestSession who, string presence, string statusMessage)
    {
        var (status, body) = await server.SendAsync(
            HttpMethod.Put, $"{Client}/presence/{RoomApi.Escape(who.UserId)}/status", new JsonObject { ["presence"] = presence, ["status_msg"] = statusMessage }, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    /// <summary>A new user of A in a room that a user of the recorder joined.</summary>
    private async Task<TestSession> UserSharingARoomWithTheRecorderAsync()
    {
        var user = await NewUserAsync(A, "alice");
        var roomId = await PublicRoomAsync(A, user);
        await _recorder.JoinAsync(A, roomId, _recorder.User(Accounts.UniqueName("rec")));
        return user;
    }

    private static List<string?> Changed(JsonNode sync) => [.. sync["device_lists"]!["changed"]!.AsArray().Select(u => (string?)u)];

    private async Task SendToDeviceAsync(TestSession from, string type, JsonObject messages)
    {
        var (status, body) = await A.SendAsync(
            HttpMethod.Put, $"{Client}/sendToDevice/{RoomApi.Escape(type)}/{RoomApi.NewTxnId()}", new JsonObject { ["messages"] = messages }, from.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    /// <summary>The device's to-device events once at least <paramref name="atLeast"/> arrived (a sync without acknowledging).</summary>
    private static async Task<List<JsonObject>> ToDeviceEventsAsync(TestServer server, TestSession who, int atLeast = 1)
    {
        List<JsonObject> events = [];
        await Poll.UntilAsync(async () =>
        {
            events = [.. (await server.SyncAsync(who))["to_device"]!["events"]!.AsArray().OfType<JsonObject>()];
            return events.Count >= atLeast;
        });
        return events;
    }

    private Task<JsonObject> SendTransactionAsync(JsonObject[] edus) =>
        A.FederationClient().PutAsync(B.Name(), $"/_matrix/federation/v1/send/{Guid.NewGuid():N}", new JsonObject
        {
            ["origin"] = A.Name(),
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(),
            ["edus"] = new JsonArray([.. edus.Select(e => (JsonNode)e)]),
        }, CancellationToken.None);

    /// <summary>The contents of the EDUs of <paramref name="eduType"/> the recorder got that match, once there is one.</summary>
    private async Task<List<JsonObject>> RecordedAsync(string eduType, Func<JsonObject, bool> match, int atLeast = 1)
    {
        List<JsonObject> found = [];
        await Poll.UntilAsync(() =>
        {
            found = [.. _recorded.Where(e => (string?)e["edu_type"] == eduType).Select(e => e["content"]!.AsObject()).Where(match)];
            return found.Count >= atLeast;
        });
        Assert.That(found, Has.Count.GreaterThanOrEqualTo(atLeast), $"{eduType} EDUs recorded");
        return found;
    }

    /// <summary>The <paramref name="n"/>th <c>m.device_list_update</c> about the user's device.</summary>
    private async Task<JsonObject> DeviceUpdateAsync(TestSession who, int n) =>
        (await RecordedAsync("m.device_list_update", c => (string?)c["user_id"] == who.UserId && (string?)c["device_id"] == who.DeviceId, n))[n - 1];

    private Task<JsonObject> UserDevicesAsync(TestSession who) =>
        B.FederationClient().GetAsync(A.Name(), $"/_matrix/federation/v1/user/devices/{RoomApi.Escape(who.UserId)}", CancellationToken.None);
}
