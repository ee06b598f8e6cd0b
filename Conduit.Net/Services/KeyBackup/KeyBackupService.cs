using System.Globalization;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.KeyBackup;

/// <summary>A backup version as <c>GET /room_keys/version</c> describes it.</summary>
public sealed record BackupVersionInfo(string Version, string Algorithm, JsonObject AuthData, long Count, string Etag);

/// <summary>A backup's key count and etag after a change to its keys.</summary>
public sealed record BackupKeysState(string Etag, long Count);

/// <summary>
/// One session's backed-up key (<c>KeyBackupData</c>): the metadata the server compares, and the
/// whole object as the client uploaded it, which is what it gets back.
/// </summary>
public sealed record RoomKeyBackup(long FirstMessageIndex, long ForwardedCount, bool IsVerified, JsonObject Data)
{
    /// <summary>
    /// The spec's rule for a session the backup holds already: keep the verified key, then the one
    /// with the lower <c>first_message_index</c>, then the one with the lower <c>forwarded_count</c>;
    /// on a tie the stored key stays.
    /// </summary>
    public bool Replaces(RoomKeyBackup existing)
    {
        if (IsVerified != existing.IsVerified)
            return IsVerified;
        if (FirstMessageIndex != existing.FirstMessageIndex)
            return FirstMessageIndex < existing.FirstMessageIndex;
        return ForwardedCount < existing.ForwardedCount;
    }
}

/// <summary>
/// Server-side key backups (spec "Server-side key backups"): per-user backup versions
/// (<see cref="Trees.BackupVersions"/>) and the encrypted room keys stored in them
/// (<see cref="Trees.BackupKeys"/>). Keys are only ever written to the current version, the newest
/// one not deleted. A version's <c>etag</c> is the global count of the last write that changed its
/// keys, so it changes exactly when they do.
/// </summary>
public sealed class KeyBackupService
{
    /// <summary>Longer session ids are refused on upload; none that a client makes comes close (Megolm's are 43 characters).</summary>
    public const int MaxSessionIdBytes = 255;

    private readonly KvStore _store;
    private readonly KvTree _versions;
    private readonly KvTree _keys;

    /// <summary>Serializes the read-modify-writes of one user's backups; striped by user.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public KeyBackupService(KvStore store)
    {
        _store = store;
        _versions = store.Tree(Trees.BackupVersions);
        _keys = store.Tree(Trees.BackupKeys);
    }

    /// <summary><c>POST /room_keys/version</c>: a new backup, which becomes the current one; returns its version.</summary>
    public string CreateVersion(string userId, string algorithm, JsonObject authData)
    {
        lock (Stripe(userId))
        {
            using var batch = new WriteBatch();
            var version = _store.NextCount(batch);
            var record = new VersionRecord(algorithm, authData, 0, version, Deleted: false);
            batch.Put(_versions, VersionKey(userId, version), record.Encode());
            _store.Commit(batch);
            return Format(version);
        }
    }

    /// <summary>The backup <paramref name="version"/>, or the current one when null: 404 <c>M_NOT_FOUND</c> when there is none.</summary>
    public BackupVersionInfo GetVersion(string userId, string? version)
    {
        if (version is null)
        {
            var (current, record) = Current(userId) ?? throw MatrixException.NotFound("No current backup version.");
            return record.Info(current);
        }
        var number = Existing(userId, version);
        return Read(userId, number)!.Info(number);
    }

    /// <summary>
    /// <c>PUT /room_keys/version/{version}</c>: replaces the <c>auth_data</c>. The algorithm must be
    /// the backup's and a <paramref name="bodyVersion"/> the path's (400 <c>M_INVALID_PARAM</c>).
    /// </summary>
    public void UpdateVersion(string userId, string version, string algorithm, JsonObject authData, string? bodyVersion)
    {
        if (bodyVersion is not null && bodyVersion != version)
            throw MatrixException.InvalidParam("The version in the body does not match the version in the path.");
        lock (Stripe(userId))
        {
            var number = Existing(userId, version);
            var record = Read(userId, number)!;
            if (record.Algorithm != algorithm)
                throw MatrixException.InvalidParam("The algorithm does not match the backup's; create a new backup version to change it.");
            _versions.Put(VersionKey(userId, number), (record with { AuthData = authData }).Encode());
        }
    }

    /// <summary>
    /// <c>DELETE /room_keys/version/{version}</c>: the backup and all its keys go; deleting one that
    /// was deleted before succeeds, one that never existed is 404 <c>M_NOT_FOUND</c>.
    /// </summary>
    public void DeleteVersion(string userId, string version)
    {
        lock (Stripe(userId))
        {
            var number = Parse(version);
            var record = number is { } n ? Read(userId, n) : null;
            if (record is null)
                throw UnknownVersion();
            if (record.Deleted)
                return;
            using var batch = new WriteBatch();
            foreach (var (key, _) in _keys.ScanPrefix(KeysPrefix(userId, number!.Value)))
                batch.Remove(_keys, key);
            batch.Put(_versions, VersionKey(userId, number.Value), (record with { Count = 0, Deleted = true }).Encode());
            _store.Commit(batch);
        }
    }

    /// <summary>
    /// <c>PUT /room_keys/keys</c> and its per-room and per-session forms: stores each key the backup
    /// does not have, and replaces a stored one when <see cref="RoomKeyBackup.Replaces"/> says so.
    /// Only the current version takes keys: another existing one is 403
    /// <c>M_WRONG_ROOM_KEYS_VERSION</c> with <c>current_version</c>; an unknown one 404.
    /// </summary>
    public BackupKeysState PutKeys(string userId, string version, IReadOnlyDictionary<string, IReadOnlyDictionary<string, RoomKeyBackup>> rooms)
    {
        foreach (var sessionId in rooms.Values.SelectMany(sessions => sessions.Keys))
        {
            if (sessionId.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(sessionId) > MaxSessionIdBytes)
                throw MatrixException.InvalidParam($"A session id is 1 to {MaxSessionIdBytes} bytes long.");
        }
        lock (Stripe(userId))
        {
            var number = Existing(userId, version);
            var (current, _) = Current(userId)!.Value;
            if (current != number)
            {
                throw new MatrixException(ErrorCode.WrongRoomKeysVersion, "Keys can only be stored in the current backup version.")
                {
                    Extra = new JsonObject { ["current_version"] = Format(current) },
                };
            }

            var record = Read(userId, number)!;
            using var batch = new WriteBatch();
            var added = 0;
            var changed = false;
            foreach (var (roomId, sessions) in rooms)
            {
                foreach (var (sessionId, key) in sessions)
                {
                    var storeKey = KeyKey(userId, number, roomId, sessionId);
                    var existing = _keys.Get(storeKey);
                    if (existing is not null && !key.Replaces(DecodeKey(existing)))
                        continue;
                    if (existing is null)
                        added++;
                    batch.Put(_keys, storeKey, KeyCodec.Utf8(key.Data.ToJsonString()));
                    changed = true;
                }
            }
            if (!changed)
                return record.State;
            record = record with { Count = record.Count + added, Etag = _store.NextCount(batch) };
            batch.Put(_versions, VersionKey(userId, number), record.Encode());
            _store.Commit(batch);
            return record.State;
        }
    }

    /// <summary>
    /// <c>GET /room_keys/keys</c>: every key of the backup as <c>{"rooms": {room: {"sessions": {...}}}}</c>,
    /// one room's (<c>{"sessions": {...}}</c>, empty when it has none) or one session's (404
    /// <c>M_NOT_FOUND</c> when missing). The version must exist (404), not be the current one.
    /// </summary>
    public JsonObject GetKeys(string userId, string version, string? roomId, string? sessionId)
    {
        var number = Existing(userId, version);
        if (roomId is not null && sessionId is not null)
        {
            return FitsKey(sessionId) && _keys.Get(KeyKey(userId, number, roomId, sessionId)) is { } value
                ? JsonNode.Parse(value)!.AsObject()
                : throw MatrixException.NotFound("No key for this session in the backup.");
        }
        var byRoom = new JsonObject();
        foreach (var (room, session, value) in Scan(userId, number, roomId))
        {
            if (byRoom[room] is not JsonObject entry)
                byRoom[room] = entry = new JsonObject { ["sessions"] = new JsonObject() };
            entry["sessions"]![session] = JsonNode.Parse(value);
        }
        if (roomId is not null)
            return byRoom[roomId] is JsonObject room ? room : new JsonObject { ["sessions"] = new JsonObject() };
        return new JsonObject { ["rooms"] = byRoom };
    }

    /// <summary>
    /// <c>DELETE /room_keys/keys</c> and its per-room and per-session forms: removes the keys in
    /// scope from an existing version (404 otherwise), current or not.
    /// </summary>
    public BackupKeysState DeleteKeys(string userId, string version, string? roomId, string? sessionId)
    {
        lock (Stripe(userId))
        {
            var number = Existing(userId, version);
            var record = Read(userId, number)!;
            using var batch = new WriteBatch();
            var removed = 0;
            if (sessionId is not null)
            {
                var key = KeyKey(userId, number, roomId!, sessionId);
                if (FitsKey(sessionId) && _keys.ContainsKey(key))
                {
                    batch.Remove(_keys, key);
                    removed++;
                }
            }
            else
            {
                var prefix = roomId is null ? KeysPrefix(userId, number) : RoomPrefix(userId, number, roomId);
                foreach (var (key, _) in _keys.ScanPrefix(prefix))
                {
                    batch.Remove(_keys, key);
                    removed++;
                }
            }
            if (removed == 0)
                return record.State;
            record = record with { Count = record.Count - removed, Etag = _store.NextCount(batch) };
            batch.Put(_versions, VersionKey(userId, number), record.Encode());
            _store.Commit(batch);
            return record.State;
        }
    }

    private IEnumerable<(string RoomId, string SessionId, byte[] Value)> Scan(string userId, ulong version, string? roomId)
    {
        var prefix = KeysPrefix(userId, version);
        foreach (var (key, value) in _keys.ScanPrefix(roomId is null ? prefix : RoomPrefix(userId, version, roomId)))
        {
            var rest = key.AsSpan(prefix.Length);
            var separator = rest.IndexOf(KeyCodec.Separator);
            yield return (KeyCodec.ReadUtf8(rest[..separator]), KeyCodec.ReadUtf8(rest[(separator + 1)..]), value);
        }
    }

    /// <summary>The newest version not deleted, if any.</summary>
    private (ulong Version, VersionRecord Record)? Current(string userId)
    {
        var prefix = KeyCodec.Prefix(userId);
        foreach (var (key, value) in _versions.ScanPrefix(prefix, reverse: true))
        {
            var record = VersionRecord.Decode(value);
            if (!record.Deleted)
                return (KeyCodec.ReadU64(key.AsSpan(prefix.Length)), record);
        }
        return null;
    }

    /// <summary>The number of a version that exists and is not deleted: 404 <c>M_NOT_FOUND</c> otherwise.</summary>
    private ulong Existing(string userId, string version) =>
        Parse(version) is { } number && Read(userId, number) is { Deleted: false } ? number : throw UnknownVersion();

    private VersionRecord? Read(string userId, ulong version) =>
        _versions.Get(VersionKey(userId, version)) is { } value ? VersionRecord.Decode(value) : null;

    private static MatrixException UnknownVersion() => MatrixException.NotFound("Unknown backup version.");

    /// <summary>A version string this service could have handed out: the decimal of a count, nothing else.</summary>
    private static ulong? Parse(string version) =>
        version.Length is > 0 and <= 20 && version.All(char.IsAsciiDigit)
        && ulong.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && Format(number) == version
            ? number
            : null;

    private static string Format(ulong number) => number.ToString(CultureInfo.InvariantCulture);

    private static bool FitsKey(string sessionId) => System.Text.Encoding.UTF8.GetByteCount(sessionId) <= MaxSessionIdBytes;

    private static RoomKeyBackup DecodeKey(byte[] value)
    {
        var data = JsonNode.Parse(value)!.AsObject();
        return new RoomKeyBackup(
            (long)data["first_message_index"]!,
            (long)data["forwarded_count"]!,
            (bool)data["is_verified"]!,
            data);
    }

    private Lock Stripe(string userId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_stripes.Length];

    private static byte[] VersionKey(string userId, ulong version) => [.. KeyCodec.Prefix(userId), .. KeyCodec.U64(version)];

    private static byte[] KeysPrefix(string userId, ulong version) => VersionKey(userId, version);

    private static byte[] RoomPrefix(string userId, ulong version, string roomId) =>
        [.. KeysPrefix(userId, version), .. KeyCodec.Utf8(roomId), KeyCodec.Separator];

    private static byte[] KeyKey(string userId, ulong version, string roomId, string sessionId) =>
        [.. RoomPrefix(userId, version, roomId), .. KeyCodec.Utf8(sessionId)];

    /// <summary>A version as stored: what the client set, and the bookkeeping of its keys.</summary>
    private sealed record VersionRecord(string Algorithm, JsonObject AuthData, long Count, ulong Etag, bool Deleted)
    {
        public BackupKeysState State => new(Format(Etag), Count);

        public BackupVersionInfo Info(ulong version) => new(Format(version), Algorithm, (JsonObject)AuthData.DeepClone(), Count, Format(Etag));

        public byte[] Encode() => KeyCodec.Utf8(new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["auth_data"] = AuthData.DeepClone(),
            ["count"] = Count,
            ["etag"] = Etag,
            ["deleted"] = Deleted,
        }.ToJsonString());

        public static VersionRecord Decode(byte[] value)
        {
            var json = JsonNode.Parse(value)!.AsObject();
            return new VersionRecord(
                (string)json["algorithm"]!,
                json["auth_data"]!.AsObject(),
                (long)json["count"]!,
                (ulong)json["etag"]!,
                (bool)json["deleted"]!);
        }
    }
}
