using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.AccountData;

/// <summary>One account data event as sync delivers it: global when <see cref="RoomId"/> is null.</summary>
/// <param name="Position">The global count of the write that set this content.</param>
public sealed record AccountDataEntry(string? RoomId, string Type, JsonObject Content, ulong Position)
{
    /// <summary>The event as <c>/sync</c> lists it under <c>account_data</c>: <c>{"type", "content"}</c>.</summary>
    public JsonObject ToEvent() => new() { ["type"] = Type, ["content"] = Content.DeepClone() };
}

/// <summary>
/// Account data (spec "Client Config"): per-user JSON objects by type, global or for one room, only
/// ever visible to their owner. Stored in <see cref="Trees.AccountData"/> with a change log in
/// <see cref="Trees.AccountDataChanges"/> that holds each (room, type) once, at the position of its
/// latest write, so that "what changed since p" is one range read.
/// </summary>
/// <remarks>
/// <c>m.fully_read</c> and <c>m.push_rules</c> are the server's: clients read them here, but write
/// them through the read-marker and push-rule APIs, which call <see cref="Put"/>.
/// </remarks>
public sealed class AccountDataService
{
    public const string FullyRead = "m.fully_read";
    public const string PushRules = "m.push_rules";

    /// <summary>The longest type accepted, in UTF-8 bytes: the spec's limit on event types.</summary>
    public const int MaxTypeBytes = 255;

    private readonly KvStore _store;
    private readonly KvTree _data;
    private readonly KvTree _changes;

    /// <summary>
    /// Serializes the read-modify-writes of one user (a write removes the change-log entry of the
    /// content it replaces); striped by user so that users do not wait on each other.
    /// </summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public AccountDataService(KvStore store)
    {
        _store = store;
        _data = store.Tree(Trees.AccountData);
        _changes = store.Tree(Trees.AccountDataChanges);
    }

    /// <summary>
    /// The content of <paramref name="type"/> for <paramref name="userId"/>, globally or in
    /// <paramref name="roomId"/>: only for the requester's own account (<c>M_FORBIDDEN</c>),
    /// <c>M_NOT_FOUND</c> when nothing was stored.
    /// </summary>
    public JsonObject Get(string requesterUserId, string userId, string? roomId, string type)
    {
        CheckOwner(requesterUserId, userId, "read");
        CheckRoomAndType(roomId, type);
        return Read(userId, roomId, type)
            ?? throw MatrixException.NotFound(roomId is null ? "Account data not found." : "Room account data not found.");
    }

    /// <summary>
    /// Sets <paramref name="type"/> to <paramref name="content"/> for the requester's own account:
    /// <c>M_FORBIDDEN</c> for someone else's, 405 <c>M_BAD_JSON</c> for a type the server manages.
    /// </summary>
    public void Set(string requesterUserId, string userId, string? roomId, string type, JsonObject content)
    {
        CheckOwner(requesterUserId, userId, "change");
        CheckRoomAndType(roomId, type);
        if (type is FullyRead or PushRules)
            throw new MatrixException(ErrorCode.ServerManagedType, $"Cannot set {type} through this API.");
        Put(userId, roomId, type, content);
    }

    /// <summary>
    /// Stores <paramref name="content"/> without the checks of <see cref="Set"/>, for the services
    /// that own the server-managed types; returns the position of the write.
    /// </summary>
    public ulong Put(string userId, string? roomId, string type, JsonObject content) =>
        Update(userId, roomId, type, _ => content)!.Value;

    /// <summary>
    /// Replaces the content of <paramref name="type"/> by what <paramref name="change"/> makes of
    /// the current one (null when there is none), atomically with respect to other writes of the
    /// same user; returns the position of the write. When <paramref name="change"/> returns null,
    /// nothing is written and this returns null.
    /// </summary>
    public ulong? Update(string userId, string? roomId, string type, Func<JsonObject?, JsonObject?> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var key = DataKey(userId, roomId, type);
        lock (Stripe(userId))
        {
            var existing = _data.Get(key);
            if (change(existing is null ? null : DecodeContent(existing)) is not { } content)
                return null;
            using var batch = new WriteBatch();
            var position = _store.NextCount(batch);
            if (existing is not null)
                batch.Remove(_changes, ChangeKey(userId, KeyCodec.ReadU64(existing)));
            batch.Put(_data, key, [.. KeyCodec.U64(position), .. KeyCodec.Utf8(content.ToJsonString())]);
            batch.Put(_changes, ChangeKey(userId, position), KeyCodec.Join(roomId ?? "", type));
            _store.Commit(batch);
            return position;
        }
    }

    /// <summary>The stored content, or null; no permission checks.</summary>
    public JsonObject? Read(string userId, string? roomId, string type) =>
        _data.Get(DataKey(userId, roomId, type)) is { } value ? DecodeContent(value) : null;

    /// <summary>
    /// Stream read for sync: the user's account data written at positions in
    /// (<paramref name="since"/>, <paramref name="upTo"/>], global and per room, oldest first, each
    /// (room, type) once with its current content. <paramref name="since"/> 0 gives everything
    /// (an initial sync).
    /// </summary>
    /// <remarks>
    /// <paramref name="upTo"/> is the position the sync response is built up to (the store's
    /// <see cref="KvStore.CommittedCount"/> read once per sync). A content rewritten after it is left
    /// out here and reported by the next sync, whose <c>since</c> is this <paramref name="upTo"/>.
    /// Rooms are not filtered: sync decides which rooms it reports.
    /// </remarks>
    public IReadOnlyList<AccountDataEntry> ChangesSince(string userId, ulong since, ulong upTo)
    {
        List<AccountDataEntry> entries = [];
        if (upTo <= since)
            return entries;
        var prefix = KeyCodec.Prefix(userId);
        foreach (var (key, value) in _changes.ScanRange(ChangeKey(userId, since + 1), ChangeKey(userId, upTo + 1)))
        {
            var position = KeyCodec.ReadU64(key.AsSpan(prefix.Length));
            var parts = KeyCodec.SplitUtf8(value);
            var roomId = parts[0].Length == 0 ? null : parts[0];
            if (_data.Get(DataKey(userId, roomId, parts[1])) is not { } data)
                continue;
            entries.Add(new AccountDataEntry(roomId, parts[1], DecodeContent(data), position));
        }
        return entries;
    }

    /// <summary>
    /// Completes when a write to <paramref name="userId"/>'s account data commits after this call
    /// (one-shot; cancelling the token removes the watch). Sync calls it before
    /// <see cref="ChangesSince"/> and awaits it only when that found nothing, so that no write is
    /// missed; a wake-up may come for a write the read already saw.
    /// </summary>
    public Task Watch(string userId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_changes, KeyCodec.Prefix(userId), cancellationToken);

    private static void CheckOwner(string requesterUserId, string userId, string verb)
    {
        if (requesterUserId != userId)
            throw MatrixException.Forbidden($"Cannot {verb} account data of other users.");
    }

    /// <summary>The path's room id must be one (<c>M_INVALID_PARAM</c>) and the type fit the spec's length.</summary>
    internal static void CheckRoomAndType(string? roomId, string type)
    {
        if (roomId is not null && !RoomId.TryParse(roomId, out _))
            throw MatrixException.InvalidParam($"{roomId} is not a valid room id.");
        if (type.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(type) > MaxTypeBytes)
            throw MatrixException.InvalidParam($"An account data type is 1 to {MaxTypeBytes} bytes long.");
    }

    private Lock Stripe(string userId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_stripes.Length];

    private static JsonObject DecodeContent(byte[] value) => JsonNode.Parse(value.AsSpan(8))!.AsObject();

    private static byte[] DataKey(string userId, string? roomId, string type) => KeyCodec.Join(userId, roomId ?? "", type);

    private static byte[] ChangeKey(string userId, ulong position) => [.. KeyCodec.Prefix(userId), .. KeyCodec.U64(position)];
}
