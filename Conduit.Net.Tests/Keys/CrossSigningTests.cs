using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Ephemeral;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Keys;

/// <summary>Cross-signing over HTTP: <c>/keys/device_signing/upload</c> with its auth rules, <c>/keys/signatures/upload</c>, and what <c>/keys/query</c> shows of both.</summary>
public sealed class CrossSigningTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    /// <summary>A user with device keys uploaded and a full set of cross-signing keys (uploaded without auth: the first time).</summary>
    private async Task<CrossSigningUser> NewUserAsync()
    {
        var session = await _server.RegisterAsync(Accounts.UniqueName("xsign"));
        var user = new CrossSigningUser(session);
        await _server.UploadAsync(session, new JsonObject { ["device_keys"] = KeysApi.DeviceKeys(session, user.Device) });
        var (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, user.SigningKeys(), session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return user;
    }

    private async Task<JsonObject> UploadSignaturesAsync(TestSession session, JsonObject body)
    {
        var (status, response) = await _server.SendAsync(HttpMethod.Post, KeysApi.SignaturesUploadPath, body, session.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());
        return response!["failures"]!.AsObject();
    }

    [Test]
    public async Task Query_serves_master_and_self_signing_keys_to_anyone_and_the_user_signing_key_to_its_owner_only()
    {
        using var alice = await NewUserAsync();
        using var bob = await NewUserAsync();
        var byBob = await _server.QueryAsync(bob.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        Assert.That(byBob["master_keys"]?[alice.Session.UserId]?["keys"]?[$"ed25519:{alice.Master.Public}"]?.GetValue<string>(), Is.EqualTo(alice.Master.Public));
        Assert.That(byBob["self_signing_keys"]?[alice.Session.UserId]?["keys"]?[$"ed25519:{alice.SelfSigning.Public}"]?.GetValue<string>(), Is.EqualTo(alice.SelfSigning.Public));
        Assert.That(byBob["user_signing_keys"]?.AsObject().ContainsKey(alice.Session.UserId), Is.False);

        var byAlice = await _server.QueryAsync(alice.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        Assert.That(byAlice["user_signing_keys"]?[alice.Session.UserId]?["keys"]?[$"ed25519:{alice.UserSigning.Public}"]?.GetValue<string>(), Is.EqualTo(alice.UserSigning.Public));
    }

    [Test]
    public async Task Replacing_cross_signing_keys_requires_user_interactive_auth()
    {
        using var alice = await NewUserAsync();
        using var newMaster = new TestKey();
        using var newSelfSigning = new TestKey();
        var body = new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(alice.Session.UserId, "master", newMaster),
            ["self_signing_key"] = KeysApi.CrossSigningKey(alice.Session.UserId, "self_signing", newSelfSigning, newMaster),
        };
        var (status, challenge) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, body.DeepClone(), alice.Session.AccessToken);
        Assert.That(status, Is.EqualTo(401), challenge?.ToJsonString());
        Assert.That(challenge!["flows"]![0]!["stages"]![0]!.GetValue<string>(), Is.EqualTo("m.login.password"));
        var query = await _server.QueryAsync(alice.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        Assert.That(query["master_keys"]?[alice.Session.UserId]?["keys"]?.AsObject().ContainsKey($"ed25519:{alice.Master.Public}"), Is.True, "nothing changed without auth");

        body["auth"] = Accounts.PasswordAuth(alice.Session.UserId, session: (string)challenge["session"]!);
        (status, var done) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, body, alice.Session.AccessToken);
        Assert.That(status, Is.EqualTo(200), done?.ToJsonString());
        query = await _server.QueryAsync(alice.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        Assert.That(query["master_keys"]?[alice.Session.UserId]?["keys"]?.AsObject().ContainsKey($"ed25519:{newMaster.Public}"), Is.True);
    }

    [Test]
    public async Task Uploading_the_same_keys_again_needs_no_auth()
    {
        using var alice = await NewUserAsync();
        var (status, body) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, alice.SigningKeys(), alice.Session.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    [Test]
    public async Task A_self_signing_key_not_signed_by_the_master_key_is_400_M_INVALID_SIGNATURE()
    {
        var session = await _server.RegisterAsync(Accounts.UniqueName("xsign"));
        using var master = new TestKey();
        using var selfSigning = new TestKey();
        var body = new JsonObject
        {
            ["master_key"] = KeysApi.CrossSigningKey(session.UserId, "master", master),
            ["self_signing_key"] = KeysApi.CrossSigningKey(session.UserId, "self_signing", selfSigning, selfSigning),
        };
        var (status, error) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, body, session.AccessToken);
        Assert.That((status, error.ErrCode()), Is.EqualTo((400, "M_INVALID_SIGNATURE")));

        var wrongUsage = new JsonObject { ["master_key"] = KeysApi.CrossSigningKey(session.UserId, "self_signing", master) };
        (status, error) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, wrongUsage, session.AccessToken);
        Assert.That((status, error.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));

        var withoutMaster = new JsonObject { ["self_signing_key"] = KeysApi.CrossSigningKey(session.UserId, "self_signing", selfSigning, master) };
        (status, error) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, withoutMaster, session.AccessToken);
        Assert.That((status, error.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
    }

    [Test]
    public async Task A_cross_signing_key_published_under_a_device_id_is_403_M_FORBIDDEN()
    {
        using var master = new TestKey();
        var session = await _server.RegisterAsync(Accounts.UniqueName("xsign"), extra: new JsonObject { ["device_id"] = master.Public });
        var body = new JsonObject { ["master_key"] = KeysApi.CrossSigningKey(session.UserId, "master", master) };
        var (status, error) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, body, session.AccessToken);
        Assert.That((status, error.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
    }

    [Test]
    public async Task Re_uploading_a_stored_self_signing_key_without_the_master_key_requires_auth()
    {
        using var alice = await NewUserAsync();
        var body = new JsonObject { ["self_signing_key"] = alice.SigningKeys()["self_signing_key"]!.DeepClone() };
        var (status, challenge) = await _server.SendAsync(HttpMethod.Post, KeysApi.SigningUploadPath, body, alice.Session.AccessToken);
        Assert.That(status, Is.EqualTo(401), challenge?.ToJsonString());
    }

    [Test]
    public async Task A_device_signed_by_the_self_signing_key_shows_the_signature_in_query()
    {
        using var alice = await NewUserAsync();
        using var bob = await NewUserAsync();
        var signed = alice.SelfSigning.Sign(KeysApi.DeviceKeys(alice.Session, alice.Device), alice.Session.UserId, alice.SelfSigning.Public);
        var failures = await UploadSignaturesAsync(alice.Session, new JsonObject
        {
            [alice.Session.UserId] = new JsonObject { [alice.Session.DeviceId] = signed },
        });
        Assert.That(failures, Is.Empty);

        var query = await _server.QueryAsync(bob.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        var signatures = query["device_keys"]![alice.Session.UserId]![alice.Session.DeviceId]!["signatures"]![alice.Session.UserId]!.AsObject();
        Assert.That(signatures.Select(s => s.Key), Is.EquivalentTo(new[] { $"ed25519:{alice.Session.DeviceId}", $"ed25519:{alice.SelfSigning.Public}" }));
    }

    [Test]
    public async Task The_master_key_signed_by_a_device_shows_the_signature_in_query()
    {
        using var alice = await NewUserAsync();
        var master = KeysApi.CrossSigningKey(alice.Session.UserId, "master", alice.Master);
        alice.Device.Sign(master, alice.Session.UserId, alice.Session.DeviceId);
        var failures = await UploadSignaturesAsync(alice.Session, new JsonObject
        {
            [alice.Session.UserId] = new JsonObject { [alice.Master.Public] = master },
        });
        Assert.That(failures, Is.Empty);
        var query = await _server.QueryAsync(alice.Session, new JsonObject { [alice.Session.UserId] = new JsonArray() });
        Assert.That(query["master_keys"]![alice.Session.UserId]!["signatures"]?[alice.Session.UserId]?.AsObject().ContainsKey($"ed25519:{alice.Session.DeviceId}"), Is.True);
    }

    [Test]
    public async Task Another_users_master_key_signed_by_the_user_signing_key_shows_to_the_signer()
    {
        using var alice = await NewUserAsync();
        using var bob = await NewUserAsync();
        var bobsMaster = alice.UserSigning.Sign(KeysApi.CrossSigningKey(bob.Session.UserId, "master", bob.Master), alice.Session.UserId, alice.UserSigning.Public);
        var failures = await UploadSignaturesAsync(alice.Session, new JsonObject
        {
            [bob.Session.UserId] = new JsonObject { [bob.Master.Public] = bobsMaster },
        });
        Assert.That(failures, Is.Empty);
        var query = await _server.QueryAsync(alice.Session, new JsonObject { [bob.Session.UserId] = new JsonArray() });
        Assert.That(query["master_keys"]![bob.Session.UserId]!["signatures"]?[alice.Session.UserId]?.AsObject().ContainsKey($"ed25519:{alice.UserSigning.Public}"), Is.True);
    }

    [Test]
    public async Task A_signature_of_another_users_master_key_is_a_device_list_change_for_the_signer_only()
    {
        using var alice = await NewUserAsync();
        using var bob = await NewUserAsync();
        using var carol = await NewUserAsync();
        var roomId = await _server.CreatePublicRoomAsync(bob.Session);
        await _server.JoinAsync(carol.Session, roomId);
        var aliceSince = (await _server.SyncAsync(alice.Session)).NextBatch();
        var carolSince = (await _server.SyncAsync(carol.Session)).NextBatch();

        var bobsMaster = alice.UserSigning.Sign(KeysApi.CrossSigningKey(bob.Session.UserId, "master", bob.Master), alice.Session.UserId, alice.UserSigning.Public);
        Assert.That(await UploadSignaturesAsync(alice.Session, new JsonObject { [bob.Session.UserId] = new JsonObject { [bob.Master.Public] = bobsMaster } }), Is.Empty);

        var aliceSync = await _server.SyncAsync(alice.Session, since: aliceSince);
        Assert.That(aliceSync["device_lists"]!["changed"]!.AsArray().Select(u => (string?)u), Is.EqualTo(new[] { bob.Session.UserId }));
        var carolSync = await _server.SyncAsync(carol.Session, since: carolSince);
        Assert.That(carolSync["device_lists"]!["changed"]!.AsArray(), Is.Empty);
        var byCarol = await _server.QueryAsync(carol.Session, new JsonObject { [bob.Session.UserId] = new JsonArray() });
        Assert.That(byCarol["master_keys"]![bob.Session.UserId]!["signatures"]?[alice.Session.UserId], Is.Null, "a user's signatures of others are theirs alone");
    }

    [Test]
    public async Task Bad_signatures_and_unknown_keys_are_reported_per_key()
    {
        using var alice = await NewUserAsync();
        using var impostor = new TestKey();
        var forged = impostor.Sign(KeysApi.DeviceKeys(alice.Session, alice.Device), alice.Session.UserId, alice.SelfSigning.Public);
        var changed = alice.SelfSigning.Sign(KeysApi.DeviceKeys(alice.Session, alice.Device, curve: "another-curve-key"), alice.Session.UserId, alice.SelfSigning.Public);
        var failures = await UploadSignaturesAsync(alice.Session, new JsonObject
        {
            [alice.Session.UserId] = new JsonObject
            {
                [alice.Session.DeviceId] = forged,
                ["NOSUCHDEVICE"] = new JsonObject { ["signatures"] = new JsonObject() },
            },
        });
        Assert.That((string?)failures[alice.Session.UserId]?[alice.Session.DeviceId]?["errcode"], Is.EqualTo("M_INVALID_SIGNATURE"));
        Assert.That((string?)failures[alice.Session.UserId]?["NOSUCHDEVICE"]?["errcode"], Is.EqualTo("M_NOT_FOUND"));

        failures = await UploadSignaturesAsync(alice.Session, new JsonObject { [alice.Session.UserId] = new JsonObject { [alice.Session.DeviceId] = changed } });
        Assert.That((string?)failures[alice.Session.UserId]?[alice.Session.DeviceId]?["errcode"], Is.EqualTo("M_INVALID_SIGNATURE"), "a signed object other than the stored keys");
    }

    /// <summary>A test user's device key and cross-signing keys.</summary>
    private sealed class CrossSigningUser(TestSession session) : IDisposable
    {
        public TestSession Session { get; } = session;
        public TestKey Device { get; } = new();
        public TestKey Master { get; } = new();
        public TestKey SelfSigning { get; } = new();
        public TestKey UserSigning { get; } = new();

        public JsonObject SigningKeys() => new()
        {
            ["master_key"] = KeysApi.CrossSigningKey(Session.UserId, "master", Master),
            ["self_signing_key"] = KeysApi.CrossSigningKey(Session.UserId, "self_signing", SelfSigning, Master),
            ["user_signing_key"] = KeysApi.CrossSigningKey(Session.UserId, "user_signing", UserSigning, Master),
        };

        public void Dispose()
        {
            Device.Dispose();
            Master.Dispose();
            SelfSigning.Dispose();
            UserSigning.Dispose();
        }
    }
}
