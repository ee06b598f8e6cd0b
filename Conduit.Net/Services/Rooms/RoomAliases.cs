using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Local room aliases (<c>#name:this.server</c>): alias → room and creator, and room → aliases, with
/// the rules of the directory endpoints. Taking an alias goes through a reservation so that two
/// requests cannot both take it between the check and the commit.
/// </summary>
/// <remarks>Aliases of other servers are not found here; <c>Federation.AliasResolver</c> asks their server.</remarks>
public sealed class RoomAliases
{
    private const string CanonicalAliasType = "m.room.canonical_alias";

    private readonly KvStore _store;
    private readonly KvTree _aliases;
    private readonly KvTree _roomAliases;
    private readonly RoomEvents _events;
    private readonly HistoryVisibility _visibility;
    private readonly string _serverName;
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RoomAliases(KvStore store, RoomEvents events, HistoryVisibility visibility, ServerConfig config)
    {
        _store = store;
        _aliases = store.Tree(Trees.Aliases);
        _roomAliases = store.Tree(Trees.RoomAliases);
        _events = events;
        _visibility = visibility;
        _serverName = config.ServerName;
    }

    /// <summary>The room and creator of a local alias, or null.</summary>
    public (string RoomId, string Creator)? Find(string alias)
    {
        if (_aliases.Get(KeyCodec.Utf8(alias)) is not { } value)
            return null;
        var parts = KeyCodec.SplitUtf8(value);
        return (parts[0], parts[1]);
    }

    /// <summary>The room's local aliases, in byte order.</summary>
    public IReadOnlyList<string> Of(string roomId)
    {
        var prefix = KeyCodec.Prefix(roomId);
        return [.. _roomAliases.ScanPrefix(prefix).Select(e => KeyCodec.ReadUtf8(e.Key.AsSpan(prefix.Length)))];
    }

    /// <summary>
    /// Takes the alias for <paramref name="roomId"/> in <paramref name="write"/>, or throws
    /// <paramref name="whenTaken"/> when it exists or another request is taking it. The reservation
    /// ends when the write commits (the alias is then stored) or when the handle is disposed.
    /// </summary>
    public IDisposable Reserve(string alias, string roomId, string creator, RoomWrite write, ErrorCode whenTaken)
    {
        lock (_gate)
        {
            if (_reserved.Contains(alias) || Find(alias) is not null)
                throw new MatrixException(whenTaken, $"The room alias {alias} is already in use.");
            _reserved.Add(alias);
        }
        var reservation = new Reservation(this, alias);
        write.Batch.Put(_aliases, KeyCodec.Utf8(alias), KeyCodec.Join(roomId, creator));
        write.Batch.Put(_roomAliases, KeyCodec.Join(roomId, alias), []);
        write.AfterCommit(reservation.Dispose);
        return reservation;
    }

    /// <summary>
    /// <c>PUT /directory/room/{alias}</c>: a member of the room maps a new local alias to it. 400
    /// <c>M_INVALID_PARAM</c> for an alias that is invalid or of another server, 404 for an unknown
    /// room, 403 for a non-member, 409 when the alias exists.
    /// </summary>
    public async Task CreateAsync(string userId, string alias, string roomId)
    {
        var parsed = ParseLocal(alias);
        var room = _events.Find(roomId) ?? throw MatrixException.NotFound($"Room {roomId} not found.");
        if (_events.Members.Get(room.ShortRoomId, userId)?.Membership != Membership.Join)
            throw MatrixException.Forbidden("You must be in the room to give it an alias.");
        using var write = new RoomWrite();
        using var reservation = Reserve(parsed.Value, room.RoomId, userId, write, ErrorCode.AliasExists);
        await write.CommitAsync(_store);
    }

    /// <summary><c>GET /directory/room/{alias}</c>: the room and the servers that know the alias (this one).</summary>
    public (string RoomId, IReadOnlyList<string> Servers) Resolve(string alias)
    {
        if (!RoomAlias.TryParse(alias, out var parsed))
            throw MatrixException.InvalidParam($"\"{alias}\" is not a valid room alias.");
        if (parsed.Server.Value != _serverName || Find(parsed.Value) is not { } found)
            throw MatrixException.NotFound($"Room alias {alias} not found.");
        return (found.RoomId, [_serverName]);
    }

    /// <summary>
    /// <c>DELETE /directory/room/{alias}</c>: by the alias's creator, a server admin, or a member
    /// whose power level lets them send <c>m.room.canonical_alias</c>; 404 when there is no such alias.
    /// </summary>
    public async Task DeleteAsync(string userId, bool isAdmin, string alias)
    {
        var parsed = ParseLocal(alias);
        var found = Find(parsed.Value) ?? throw MatrixException.NotFound($"Room alias {alias} not found.");
        if (found.Creator != userId && !isAdmin && !MaySetCanonicalAlias(userId, found.RoomId))
            throw MatrixException.Forbidden("Only the alias's creator or a room moderator may remove it.");
        using var write = new RoomWrite();
        write.Batch.Remove(_aliases, KeyCodec.Utf8(parsed.Value));
        write.Batch.Remove(_roomAliases, KeyCodec.Join(found.RoomId, parsed.Value));
        await write.CommitAsync(_store);
    }

    /// <summary><c>GET /rooms/{roomId}/aliases</c>: for members, or anyone when the room is world readable.</summary>
    public IReadOnlyList<string> LocalAliases(string userId, string roomId)
    {
        var room = _events.Find(roomId) ?? throw RoomService.NotInRoom();
        if (_events.Members.Get(room.ShortRoomId, userId)?.Membership != Membership.Join
            && _visibility.VisibilityAt(room.StateHash) != HistoryVisibility.WorldReadable)
            throw RoomService.NotInRoom();
        return Of(room.RoomId);
    }

    /// <summary>Moves every local alias of one room to another (room upgrades), in <paramref name="write"/>.</summary>
    public void MoveAll(string fromRoomId, string toRoomId, RoomWrite write)
    {
        foreach (var alias in Of(fromRoomId))
        {
            var creator = Find(alias)?.Creator ?? "";
            write.Batch.Remove(_roomAliases, KeyCodec.Join(fromRoomId, alias));
            write.Batch.Put(_roomAliases, KeyCodec.Join(toRoomId, alias), []);
            write.Batch.Put(_aliases, KeyCodec.Utf8(alias), KeyCodec.Join(toRoomId, creator));
        }
    }

    private bool MaySetCanonicalAlias(string userId, string roomId)
    {
        if (_events.Find(roomId) is not { } room)
            return false;
        var state = _events.Lookup(room);
        return Membership.Of(state, userId) == Membership.Join && PowerLevels.Of(state, room.Version).MaySend(userId, CanonicalAliasType, isState: true);
    }

    private RoomAlias ParseLocal(string alias)
    {
        if (!RoomAlias.TryParse(alias, out var parsed) || parsed.Alias.Length == 0)
            throw MatrixException.InvalidParam($"\"{alias}\" is not a valid room alias.");
        if (parsed.Server.Value != _serverName)
            throw MatrixException.InvalidParam($"Aliases of other servers ({parsed.Server.Value}) cannot be managed here.");
        return parsed;
    }

    private sealed class Reservation(RoomAliases owner, string alias) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
                owner._reserved.Remove(alias);
        }
    }
}
