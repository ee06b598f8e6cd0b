using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.KeyBackup;

/// <summary>Server-side key backups: <c>/room_keys/version</c> and <c>/room_keys/keys</c> at every level.</summary>
public sealed class KeyBackupTests
{
    private const string Algorithm = "m.megolm_backup.v1.curve25519-aes-sha2";
    private const string VersionPath = RoomApi.Client + "/room_keys/version";
    private const string KeysPath = RoomApi.Client + "/room_keys/keys";
    private const string Room = "!room:localhost";
    private const string OtherRoom = "!other:localhost";

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<TestSession> NewUserAsync() => _server.RegisterAsync(Accounts.UniqueName("alice"));

    private static JsonObject AuthData(string publicKey) => new() { ["public_key"] = publicKey, ["signatures"] = new JsonObject() };

    private async Task<string> CreateVersionAsync(TestSession who, string publicKey = "key1")
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Post, VersionPath, new JsonObject { ["algorithm"] = Algorithm, ["auth_data"] = AuthData(publicKey) }, who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return (string)body!["version"]!;
    }

    private Task<(int Status, JsonNode? Body)> GetVersionAsync(TestSession who, string? version = null) =>
        _server.SendAsync(HttpMethod.Get, version is null ? VersionPath : $"{VersionPath}/{RoomApi.Escape(version)}", accessToken: who.AccessToken);

    private static string KeysUrl(string version, string? roomId = null, string? sessionId = null)
    {
        var path = KeysPath;
        if (roomId is not null)
            path += "/" + RoomApi.Escape(roomId);
        if (sessionId is not null)
            path += "/" + RoomApi.Escape(sessionId);
        return $"{path}?version={RoomApi.Escape(version)}";
    }

    private static JsonObject Key(bool verified, int firstMessageIndex, int forwardedCount, string marker = "x") => new()
    {
        ["first_message_index"] = firstMessageIndex,
        ["forwarded_count"] = forwardedCount,
        ["is_verified"] = verified,
        ["session_data"] = new JsonObject { ["ephemeral"] = "e", ["ciphertext"] = marker, ["mac"] = "m" },
    };

    private Task<(int Status, JsonNode? Body)> PutKeyRawAsync(TestSession who, string version, string sessionId, JsonObject key, string roomId = Room) =>
        _server.SendAsync(HttpMethod.Put, KeysUrl(version, roomId, sessionId), key, who.AccessToken);

    private async Task<JsonNode> PutKeyAsync(TestSession who, string version, string sessionId, JsonObject key, string roomId = Room)
    {
        var (status, body) = await PutKeyRawAsync(who, version, sessionId, key, roomId);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!;
    }

    private async Task<JsonNode> GetKeysAsync(TestSession who, string version, string? roomId = null, string? sessionId = null)
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, KeysUrl(version, roomId, sessionId), accessToken: who.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!;
    }

    private async Task<string?> StoredMarkerAsync(TestSession who, string version, string sessionId) =>
        (string?)(await GetKeysAsync(who, version, Room, sessionId))["session_data"]!["ciphertext"];

    [Test]
    public async Task Without_a_backup_the_current_version_is_404_M_NOT_FOUND()
    {
        var alice = await NewUserAsync();
        var (status, body) = await GetVersionAsync(alice);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task A_created_backup_is_the_current_one_with_its_auth_data_count_and_etag()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice, "pk");

        foreach (var asked in new[] { null, version })
        {
            var (status, body) = await GetVersionAsync(alice, asked);
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
            Assert.That((string?)body!["version"], Is.EqualTo(version));
            Assert.That((string?)body["algorithm"], Is.EqualTo(Algorithm));
            Assert.That((string?)body["auth_data"]!["public_key"], Is.EqualTo("pk"));
            Assert.That((int?)body["count"], Is.Zero);
            Assert.That((string?)body["etag"], Is.Not.Null.And.Not.Empty);
        }
    }

    [Test]
    public async Task The_newest_backup_not_deleted_is_current()
    {
        var alice = await NewUserAsync();
        var first = await CreateVersionAsync(alice);
        var second = await CreateVersionAsync(alice);
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That((string?)(await GetVersionAsync(alice)).Body!["version"], Is.EqualTo(second));

        Assert.That((await _server.SendAsync(HttpMethod.Delete, $"{VersionPath}/{second}", accessToken: alice.AccessToken)).Status, Is.EqualTo(200));
        Assert.That((string?)(await GetVersionAsync(alice)).Body!["version"], Is.EqualTo(first));
    }

    [Test]
    public async Task Backups_belong_to_their_user()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var version = await CreateVersionAsync(alice);

        Assert.That((await GetVersionAsync(bob)).Status, Is.EqualTo(404));
        var (status, body) = await GetVersionAsync(bob, version);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task Updating_a_backup_replaces_its_auth_data_when_the_algorithm_and_version_match()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice, "old");
        var path = $"{VersionPath}/{version}";

        var (status, body) = await _server.SendAsync(HttpMethod.Put, path, new JsonObject { ["algorithm"] = Algorithm, ["auth_data"] = AuthData("new"), ["version"] = version }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((string?)(await GetVersionAsync(alice)).Body!["auth_data"]!["public_key"], Is.EqualTo("new"));

        (status, body) = await _server.SendAsync(HttpMethod.Put, path, new JsonObject { ["algorithm"] = "org.example.other", ["auth_data"] = AuthData("x") }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await _server.SendAsync(HttpMethod.Put, path, new JsonObject { ["algorithm"] = Algorithm, ["auth_data"] = AuthData("x"), ["version"] = version + "0" }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        (status, body) = await _server.SendAsync(HttpMethod.Put, $"{VersionPath}/999999999", new JsonObject { ["algorithm"] = Algorithm, ["auth_data"] = AuthData("x") }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        Assert.That((string?)(await GetVersionAsync(alice)).Body!["auth_data"]!["public_key"], Is.EqualTo("new"));
    }

    [Test]
    public async Task Creating_a_backup_needs_an_algorithm_and_auth_data()
    {
        var alice = await NewUserAsync();
        var (status, body) = await _server.SendAsync(HttpMethod.Post, VersionPath, new JsonObject { ["algorithm"] = Algorithm }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
        (status, body) = await _server.SendAsync(HttpMethod.Post, VersionPath, new JsonObject { ["algorithm"] = Algorithm, ["auth_data"] = "text" }, alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task Deleting_a_backup_deletes_its_keys_and_succeeds_again_but_an_unknown_one_is_404()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, version, "s1", Key(false, 0, 0));
        var path = $"{VersionPath}/{version}";

        Assert.That((await _server.SendAsync(HttpMethod.Delete, path, accessToken: alice.AccessToken)).Status, Is.EqualTo(200));
        Assert.That((await _server.SendAsync(HttpMethod.Delete, path, accessToken: alice.AccessToken)).Status, Is.EqualTo(200));
        var (status, body) = await _server.SendAsync(HttpMethod.Get, KeysUrl(version, Room, "s1"), accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await GetVersionAsync(alice, version);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await _server.SendAsync(HttpMethod.Delete, $"{VersionPath}/999999999", accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task Keys_come_back_at_every_level_with_count_and_etag()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        var etag0 = (string)(await GetVersionAsync(alice)).Body!["etag"]!;

        var first = await PutKeyAsync(alice, version, "s1", Key(false, 0, 0, "one"));
        Assert.That((int?)first["count"], Is.EqualTo(1));
        Assert.That((string?)first["etag"], Is.Not.EqualTo(etag0));

        var (status, body) = await _server.SendAsync(HttpMethod.Put, KeysUrl(version, OtherRoom), new JsonObject
        {
            ["sessions"] = new JsonObject { ["s2"] = Key(false, 0, 0, "two") },
        }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((int?)body!["count"], Is.EqualTo(2));
        (status, body) = await _server.SendAsync(HttpMethod.Put, KeysUrl(version), new JsonObject
        {
            ["rooms"] = new JsonObject { [Room] = new JsonObject { ["sessions"] = new JsonObject { ["s3"] = Key(true, 0, 0, "three") } } },
        }, alice.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((int?)body!["count"], Is.EqualTo(3));

        var all = await GetKeysAsync(alice, version);
        Assert.That(all["rooms"]![Room]!["sessions"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(Sync.SyncApi.Expect("s1", "s3")));
        Assert.That((string?)all["rooms"]![OtherRoom]!["sessions"]!["s2"]!["session_data"]!["ciphertext"], Is.EqualTo("two"));
        var room = await GetKeysAsync(alice, version, OtherRoom);
        Assert.That(room["sessions"]!.AsObject().Select(p => p.Key), Is.EqualTo(Sync.SyncApi.Expect("s2")));
        var session = await GetKeysAsync(alice, version, Room, "s3");
        Assert.That(JsonNode.DeepEquals(session, Key(true, 0, 0, "three")), Is.True, session.ToJsonString());

        var info = (await GetVersionAsync(alice)).Body!;
        Assert.That((int?)info["count"], Is.EqualTo(3));
        Assert.That((string?)info["etag"], Is.EqualTo((string?)body["etag"]));
    }

    [Test]
    public async Task A_missing_room_is_an_empty_sessions_object_and_a_missing_session_is_404()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);

        Assert.That((await GetKeysAsync(alice, version))["rooms"]!.AsObject(), Is.Empty);
        Assert.That((await GetKeysAsync(alice, version, Room))["sessions"]!.AsObject(), Is.Empty);
        var (status, body) = await _server.SendAsync(HttpMethod.Get, KeysUrl(version, Room, "nope"), accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
    }

    [Test]
    public async Task A_verified_key_replaces_an_unverified_one_and_is_never_replaced_by_one()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, version, "s", Key(false, 0, 0, "unverified"));

        await PutKeyAsync(alice, version, "s", Key(true, 5, 3, "verified"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("verified"));
        await PutKeyAsync(alice, version, "s", Key(false, 0, 0, "unverified again"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("verified"));
    }

    [Test]
    public async Task Between_keys_alike_in_verification_the_lower_first_message_index_wins()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, version, "s", Key(true, 10, 0, "ten"));

        await PutKeyAsync(alice, version, "s", Key(true, 4, 5, "four"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("four"));
        await PutKeyAsync(alice, version, "s", Key(true, 7, 0, "seven"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("four"));
    }

    [Test]
    public async Task Then_the_lower_forwarded_count_wins_and_a_tie_keeps_the_stored_key_and_its_etag()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, version, "s", Key(false, 2, 4, "four"));

        var replaced = await PutKeyAsync(alice, version, "s", Key(false, 2, 1, "one"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("one"));
        Assert.That((int?)replaced["count"], Is.EqualTo(1), "a replacement is not a new key");

        var kept = await PutKeyAsync(alice, version, "s", Key(false, 2, 1, "tie"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("one"));
        Assert.That((string?)kept["etag"], Is.EqualTo((string?)replaced["etag"]), "nothing changed");
        await PutKeyAsync(alice, version, "s", Key(false, 2, 3, "three"));
        Assert.That(await StoredMarkerAsync(alice, version, "s"), Is.EqualTo("one"));
    }

    [Test]
    public async Task Keys_go_only_into_the_current_version_and_old_ones_stay_readable()
    {
        var alice = await NewUserAsync();
        var old = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, old, "s", Key(false, 0, 0, "old"));
        var current = await CreateVersionAsync(alice);

        var (status, body) = await PutKeyRawAsync(alice, old, "s2", Key(false, 0, 0));
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_WRONG_ROOM_KEYS_VERSION")));
        Assert.That((string?)body!["current_version"], Is.EqualTo(current));
        Assert.That(await StoredMarkerAsync(alice, old, "s"), Is.EqualTo("old"));

        (status, body) = await PutKeyRawAsync(alice, "999999999", "s2", Key(false, 0, 0));
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await _server.SendAsync(HttpMethod.Get, KeysUrl("not-a-version"), accessToken: alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((404, "M_NOT_FOUND")));
        (status, body) = await _server.SendAsync(HttpMethod.Put, $"{KeysPath}/{RoomApi.Escape(Room)}/s2", Key(false, 0, 0), alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_MISSING_PARAM")));
    }

    [Test]
    public async Task Deleting_keys_at_each_level_lowers_the_count_and_changes_the_etag()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);
        await PutKeyAsync(alice, version, "a", Key(false, 0, 0));
        await PutKeyAsync(alice, version, "b", Key(false, 0, 0));
        await PutKeyAsync(alice, version, "c", Key(false, 0, 0), OtherRoom);
        var before = await PutKeyAsync(alice, version, "d", Key(false, 0, 0), "!third:localhost");

        async Task<JsonNode> DeleteAsync(string url)
        {
            var (status, body) = await _server.SendAsync(HttpMethod.Delete, url, accessToken: alice.AccessToken);
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
            return body!;
        }

        var session = await DeleteAsync(KeysUrl(version, Room, "a"));
        Assert.That((int?)session["count"], Is.EqualTo(3));
        Assert.That((string?)session["etag"], Is.Not.EqualTo((string?)before["etag"]));
        var room = await DeleteAsync(KeysUrl(version, Room));
        Assert.That((int?)room["count"], Is.EqualTo(2));
        Assert.That((await GetKeysAsync(alice, version, Room))["sessions"]!.AsObject(), Is.Empty);
        var all = await DeleteAsync(KeysUrl(version));
        Assert.That((int?)all["count"], Is.Zero);
        Assert.That((await GetKeysAsync(alice, version))["rooms"]!.AsObject(), Is.Empty);

        var nothing = await DeleteAsync(KeysUrl(version, Room, "a"));
        Assert.That((string?)nothing["etag"], Is.EqualTo((string?)all["etag"]));
    }

    [Test]
    public async Task Malformed_key_data_is_400_M_BAD_JSON_and_a_bad_room_id_M_INVALID_PARAM()
    {
        var alice = await NewUserAsync();
        var version = await CreateVersionAsync(alice);

        var missing = Key(false, 0, 0);
        missing.Remove("is_verified");
        var (status, body) = await PutKeyRawAsync(alice, version, "s", missing);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        var wrongType = Key(false, 0, 0);
        wrongType["first_message_index"] = "0";
        (status, body) = await PutKeyRawAsync(alice, version, "s", wrongType);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        (status, body) = await _server.SendAsync(HttpMethod.Put, KeysUrl(version), new JsonObject(), alice.AccessToken);
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        (status, body) = await PutKeyRawAsync(alice, version, "s", Key(false, 0, 0), roomId: "not-a-room");
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_INVALID_PARAM")));
        Assert.That((int?)(await GetVersionAsync(alice)).Body!["count"], Is.Zero);
    }
}
