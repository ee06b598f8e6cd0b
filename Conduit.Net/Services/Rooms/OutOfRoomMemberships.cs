using System.Text.Json.Nodes;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>A local user's membership in a room no user of this server is joined to.</summary>
/// <param name="Position">The global count it was recorded at: it supersedes any membership the room's own index holds from before.</param>
/// <param name="Event">The member event in the client format, as <c>rooms.leave</c> shows it.</param>
/// <param name="StrippedState">The stripped state <c>rooms.invite</c> and <c>rooms.knock</c> show, the member event last.</param>
/// <param name="Servers">The servers to go through for a later leave or join, the likeliest first.</param>
public sealed record OutOfRoomMembership(string RoomId, string Membership, long Position, JsonObject Event, JsonArray StrippedState, IReadOnlyList<string> Servers);

/// <summary>
/// Memberships made over federation in rooms whose events this server does not follow: an invite another
/// server sent, a knock or a rejection sent through a resident server. The room's own membership index
/// cannot hold them (it mirrors the room's state here, which is missing or stale), so they live beside it,
/// each at a position of the global counter: whichever of the two is newer is the user's membership.
/// </summary>
public sealed class OutOfRoomMemberships
{
    private readonly KvStore _store;
    private readonly KvTree _tree;
    private readonly RoomEvents _events;

    public OutOfRoomMemberships(KvStore store, RoomEvents events)
    {
        _store = store;
        _tree = store.Tree(Trees.OutOfRoomMemberships);
        _events = events;
    }

    /// <summary>Records the user's membership, durably, replacing what was recorded for the room before.</summary>
    public async Task RecordAsync(string userId, string roomId, string membership, JsonObject memberEvent, JsonArray strippedState, IEnumerable<string> servers)
    {
        using var batch = new WriteBatch();
        var position = _store.NextCount(batch);
        var json = new JsonObject
        {
            ["membership"] = membership,
            ["event"] = memberEvent.DeepClone(),
            ["stripped_state"] = strippedState.DeepClone(),
            ["servers"] = new JsonArray([.. servers.Distinct(StringComparer.Ordinal).Select(s => JsonValue.Create(s))]),
        };
        batch.Put(_tree, KeyCodec.Join(userId, roomId), [.. KeyCodec.U64(position), .. RoomEvents.Serialize(json)]);
        await _store.CommitAsync(batch);
    }

    /// <summary>Removes the record of the user's membership in the room (a rejected invite the user forgets), durably.</summary>
    public async Task ForgetAsync(string userId, string roomId)
    {
        using var batch = new WriteBatch();
        batch.Remove(_tree, KeyCodec.Join(userId, roomId));
        await _store.CommitAsync(batch);
    }

    /// <summary>The user's membership in the room when it is recorded here and newer than the room's own.</summary>
    public OutOfRoomMembership? Find(string userId, string roomId) =>
        _tree.Get(KeyCodec.Join(userId, roomId)) is { } value && Decode(roomId, value) is var record && !Superseded(userId, record)
            ? record
            : null;

    /// <summary>The user's memberships recorded here that are newer than the rooms' own.</summary>
    public IReadOnlyList<OutOfRoomMembership> Of(string userId)
    {
        var prefix = KeyCodec.Prefix(userId);
        List<OutOfRoomMembership> records = [];
        foreach (var (key, value) in _tree.ScanPrefix(prefix))
        {
            var record = Decode(KeyCodec.ReadUtf8(key.AsSpan(prefix.Length)), value);
            if (!Superseded(userId, record))
                records.Add(record);
        }
        return records;
    }

    /// <summary>Completes at the first commit after this call that records a membership of the user.</summary>
    public Task Watch(string userId, CancellationToken cancellationToken) =>
        _store.WatchPrefix(_tree, KeyCodec.Prefix(userId), cancellationToken);

    /// <summary>Whether the room's own index (forgotten rooms included) holds a membership of the user recorded later.</summary>
    private bool Superseded(string userId, OutOfRoomMembership record) =>
        _events.Ids.FindRoom(record.RoomId) is { } shortRoomId
        && _events.Members.Get(shortRoomId, userId) is { } indexed
        && indexed.Position > record.Position;

    private static OutOfRoomMembership Decode(string roomId, byte[] value)
    {
        var json = (JsonObject)JsonNode.Parse(value.AsSpan(8))!;
        return new OutOfRoomMembership(
            roomId,
            (string)json["membership"]!,
            (long)KeyCodec.ReadU64(value),
            (JsonObject)json["event"]!,
            (JsonArray)json["stripped_state"]!,
            [.. ((JsonArray)json["servers"]!).Select(s => (string)s!)]);
    }
}
