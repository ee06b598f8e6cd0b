using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Ephemeral;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Keys;

/// <summary>
/// The key management API over HTTP: <c>/keys/upload</c>, <c>/keys/query</c>, <c>/keys/claim</c>,
/// <c>/keys/changes</c>, and the key counts in <c>/sync</c>.
/// </summary>
public sealed class KeyTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<TestSession> NewUserAsync() => _server.RegisterAsync(Accounts.UniqueName("keys"));

    [Test]
    public async Task Uploaded_device_keys_are_served_by_query_with_the_device_display_name()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await _server.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/devices/{alice.DeviceId}", new JsonObject { ["display_name"] = "Alice's phone" }, alice.AccessToken);
        using var key = new TestKey();
        var uploaded = KeysApi.DeviceKeys(alice, key);
        await _server.UploadAsync(alice, new JsonObject { ["device_keys"] = uploaded.DeepClone() });

        var response = await _server.QueryAsync(bob, new JsonObject { [alice.UserId] = new JsonArray() });
        var served = response["device_keys"]![alice.UserId]![alice.DeviceId]!.AsObject();
        Assert.That((string?)served["unsigned"]?["device_display_name"], Is.EqualTo("Alice's phone"));
        served.Remove("unsigned");
        Assert.That(JsonNode.DeepEquals(served, uploaded), Is.True, served.ToJsonString());
        Assert.That(response["failures"]?.AsObject().Count, Is.Zero);
    }

    [Test]
    public async Task Query_with_device_ids_serves_only_those_devices()
    {
        var alice = await NewUserAsync();
        var phone = await _server.LoginAsync(alice.UserId);
        using var key1 = new TestKey();
        using var key2 = new TestKey();
        await _server.UploadAsync(alice, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(alice, key1) });
        await _server.UploadAsync(phone, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(phone, key2) });

        var all = await _server.QueryAsync(alice, new JsonObject { [alice.UserId] = new JsonArray() });
        Assert.That(all["device_keys"]![alice.UserId]!.AsObject().Select(d => d.Key), Is.EquivalentTo(new[] { alice.DeviceId, phone.DeviceId }));
        var one = await _server.QueryAsync(alice, new JsonObject { [alice.UserId] = new JsonArray(phone.DeviceId) });
        Assert.That(one["device_keys"]![alice.UserId]!.AsObject().Select(d => d.Key), Is.EqualTo(new[] { phone.DeviceId }));
    }

    [Test]
    public async Task Device_keys_naming_another_user_or_device_are_400()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        using var key = new TestKey();
        var (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.UploadPath, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, key) }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        var otherDevice = KeysApi.DeviceKeys(alice, key);
        otherDevice["device_id"] = "SOMEONEELSE";
        (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.UploadPath, new JsonObject { ["device_keys"] = otherDevice }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        var noKeys = KeysApi.DeviceKeys(alice, key);
        noKeys["keys"] = "none";
        (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.UploadPath, new JsonObject { ["device_keys"] = noKeys }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task One_time_key_counts_always_include_signed_curve25519()
    {
        var alice = await NewUserAsync();
        var empty = await _server.UploadAsync(alice, new JsonObject());
        Assert.That(empty["one_time_key_counts"]?.ToJsonString(), Is.EqualTo("""{"signed_curve25519":0}"""));
        var some = await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("A", 3) });
        Assert.That((int?)some["one_time_key_counts"]?["signed_curve25519"], Is.EqualTo(3));
    }

    [Test]
    public async Task Re_uploading_a_one_time_key_id_with_other_content_is_400_and_the_same_content_is_ignored()
    {
        var alice = await NewUserAsync();
        await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("A", 2) });
        var again = await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("A", 2) });
        Assert.That((int?)again["one_time_key_counts"]?["signed_curve25519"], Is.EqualTo(2));

        var changed = new JsonObject { ["signed_curve25519:A1"] = new JsonObject { ["key"] = "different" } };
        var (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.UploadPath, new JsonObject { ["one_time_keys"] = changed }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(400), body?.ToJsonString());
        var (badStatus, badBody) = await _server.SendAsync(HttpMethod.Post, KeysApi.UploadPath,
            new JsonObject { ["one_time_keys"] = new JsonObject { ["no-algorithm"] = "k" } }, alice.AccessToken);
        Assert.That((badStatus, badBody.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
    }

    [Test]
    public async Task Claims_hand_out_the_oldest_key_first_then_the_fallback_key_which_is_kept_and_marked_used()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("old", 1) });
        await _server.UploadAsync(alice, new JsonObject
        {
            ["one_time_keys"] = KeysApi.OneTimeKeys("new", 1),
            ["fallback_keys"] = new JsonObject { ["signed_curve25519:FB"] = new JsonObject { ["key"] = "fallback", ["fallback"] = true } },
        });
        var before = await _server.SyncAsync(alice);
        Assert.That(before["device_unused_fallback_key_types"]?.ToJsonString(), Is.EqualTo("""["signed_curve25519"]"""));

        Assert.That(await _server.ClaimOneAsync(bob, alice), Is.EqualTo("signed_curve25519:old0"));
        Assert.That(await _server.ClaimOneAsync(bob, alice), Is.EqualTo("signed_curve25519:new0"));
        var fallback = await _server.ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } });
        Assert.That((bool?)fallback["one_time_keys"]?[alice.UserId]?[alice.DeviceId]?["signed_curve25519:FB"]?["fallback"], Is.True);
        Assert.That(await _server.ClaimOneAsync(bob, alice), Is.EqualTo("signed_curve25519:FB"), "a fallback key is handed out again");

        var after = await _server.SyncAsync(alice);
        Assert.That(after["device_unused_fallback_key_types"]?.ToJsonString(), Is.EqualTo("[]"));
        Assert.That((int?)after["device_one_time_keys_count"]?["signed_curve25519"], Is.Zero);
    }

    [Test]
    public async Task Concurrent_claims_never_hand_out_a_one_time_key_twice()
    {
        const int Keys = 5;
        const int Claimers = 40;
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("C", Keys) });

        var claimed = await Task.WhenAll(Enumerable.Range(0, Claimers).Select(_ => _server.ClaimOneAsync(bob, alice)));
        var handedOut = claimed.OfType<string>().ToList();
        Assert.That(handedOut, Is.Unique);
        Assert.That(handedOut, Has.Count.EqualTo(Keys));
        var counts = await _server.UploadAsync(alice, new JsonObject());
        Assert.That((int?)counts["one_time_key_counts"]?["signed_curve25519"], Is.Zero);
    }

    [Test]
    public async Task Sync_reports_the_devices_key_counts_after_upload_and_after_claims()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var initial = await _server.SyncAsync(alice);
        Assert.That(initial["device_one_time_keys_count"]?.ToJsonString(), Is.EqualTo("""{"signed_curve25519":0}"""));
        Assert.That(initial["device_unused_fallback_key_types"]?.ToJsonString(), Is.EqualTo("[]"));

        await _server.UploadAsync(alice, new JsonObject { ["one_time_keys"] = KeysApi.OneTimeKeys("S", 4) });
        var afterUpload = await _server.SyncAsync(alice, since: initial.NextBatch());
        Assert.That((int?)afterUpload["device_one_time_keys_count"]?["signed_curve25519"], Is.EqualTo(4));

        await _server.ClaimOneAsync(bob, alice);
        await _server.ClaimOneAsync(bob, alice);
        var afterClaims = await _server.SyncAsync(alice, since: afterUpload.NextBatch());
        Assert.That((int?)afterClaims["device_one_time_keys_count"]?["signed_curve25519"], Is.EqualTo(2));
    }

    [Test]
    public async Task Users_of_servers_that_cannot_be_reached_are_reported_in_failures()
    {
        // Loopback is in the default federation_ip_range_blacklist: this server refuses to connect there.
        const string Server = "localhost:1";
        var alice = await NewUserAsync();
        var query = await _server.QueryAsync(alice, new JsonObject { [$"@bob:{Server}"] = new JsonArray() });
        Assert.That(query["failures"]?.AsObject().Select(f => f.Key), Is.EqualTo(SyncApi.Expect(Server)));
        Assert.That(query["device_keys"]?.AsObject().ContainsKey($"@bob:{Server}"), Is.False);
        var claim = await _server.ClaimAsync(alice, new JsonObject { [$"@bob:{Server}"] = new JsonObject { ["DEV"] = "signed_curve25519" } });
        Assert.That(claim["failures"]?.AsObject().Select(f => f.Key), Is.EqualTo(SyncApi.Expect(Server)));
    }

    [Test]
    public async Task A_deleted_devices_keys_vanish_from_query_and_claims()
    {
        var alice = await NewUserAsync();
        var phone = await _server.LoginAsync(alice.UserId);
        using var key = new TestKey();
        await _server.UploadAsync(phone, new JsonObject
        {
            ["device_keys"] = KeysApi.DeviceKeys(phone, key),
            ["one_time_keys"] = KeysApi.OneTimeKeys("D", 2),
        });
        var (status, body) = await _server.SendAsync(HttpMethod.Delete, $"/_matrix/client/v3/devices/{phone.DeviceId}",
            new JsonObject { ["auth"] = Accounts.PasswordAuth(alice.UserId) }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());

        var query = await _server.QueryAsync(alice, new JsonObject { [alice.UserId] = new JsonArray() });
        Assert.That(query["device_keys"]![alice.UserId]!.AsObject().ContainsKey(phone.DeviceId), Is.False);
        Assert.That(await _server.ClaimOneAsync(alice, phone), Is.Null);
    }

    [Test]
    public async Task Keys_changes_lists_room_mates_whose_keys_changed_between_two_tokens()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var stranger = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(alice);
        await _server.JoinAsync(bob, roomId);
        var from = (await _server.SyncAsync(alice)).NextBatch();

        using var bobKey = new TestKey();
        using var strangerKey = new TestKey();
        await _server.UploadAsync(bob, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(bob, bobKey) });
        await _server.UploadAsync(stranger, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(stranger, strangerKey) });
        var to = (await _server.SyncAsync(alice)).NextBatch();

        var (status, changes) = await _server.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/keys/changes?from={from}&to={to}", accessToken: alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), changes?.ToJsonString());
        Assert.That(changes!["changed"]!.AsArray().Select(u => (string?)u), Is.EqualTo(new[] { bob.UserId }));
        Assert.That(changes["left"]!.AsArray(), Is.Empty);

        var (missing, error) = await _server.SendAsync(HttpMethod.Get, $"/_matrix/client/v3/keys/changes?from={from}", accessToken: alice.AccessToken);
        Assert.That((missing, error.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
    }
}
