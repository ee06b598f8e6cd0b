using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Membership as clients change and read it: join (by id or alias, with the restricted-join checks
/// a resident server makes), leave, forget, invite, kick, ban, unban, knock; the user's joined rooms
/// and a room's members. Every change is an <c>m.room.member</c> event through the append path and
/// the auth rules; the refusals the rules do not express (kicking someone not in the room,
/// unbanning someone not banned, forgetting a room one is in) are checked here first.
/// </summary>
/// <remarks>
/// Memberships that need another server (joining, knocking on or leaving a room this server is not in,
/// inviting a user of another server) go through <c>Federation.RemoteMemberships</c>.
/// </remarks>
public sealed class MembershipService
{
    private readonly RoomEvents _events;
    private readonly RoomService _rooms;
    private readonly RoomAliases _aliases;
    private readonly OutOfRoomMemberships _outOfRoom;
    private readonly ServerConfig _config;

    public MembershipService(RoomEvents events, RoomService rooms, RoomAliases aliases, OutOfRoomMemberships outOfRoom, ServerConfig config)
    {
        _events = events;
        _rooms = rooms;
        _aliases = aliases;
        _outOfRoom = outOfRoom;
        _config = config;
    }

    /// <summary>Joins a room named by id or alias; returns the room id. Already joined is not an error and sends nothing.</summary>
    public async Task<string> JoinAsync(string userId, string roomIdOrAlias, string? reason, CancellationToken cancellationToken)
    {
        var roomId = ResolveRoom(roomIdOrAlias);
        using var append = await _rooms.LockAsync(roomId, cancellationToken)
            ?? throw MatrixException.NotFound("This server does not know the room, and joining rooms of other servers needs federation.");
        var state = append.State;
        if (Membership.Of(state, userId) == Membership.Join)
            return roomId;

        var content = new JsonObject { ["membership"] = Membership.Join };
        AddReason(content, reason);
        var joinRule = JoinRules.Of(state);
        var restricted = (append.Version.RestrictedJoins && joinRule == JoinRules.Restricted)
            || (append.Version.KnockRestrictedJoins && joinRule == JoinRules.KnockRestricted);
        if (restricted && Membership.Of(state, userId) != Membership.Invite)
            content["join_authorised_via_users_server"] = AuthoriseRestrictedJoin(append, userId);
        append.Append(new EventDraft(EventTypes.Member, userId, userId, _rooms.WithProfile(content, userId)));
        await append.CommitAsync();
        return roomId;
    }

    /// <summary>Leaves the room, rejects an invite or retracts a knock.</summary>
    public Task LeaveAsync(string userId, string roomId, string? reason, CancellationToken cancellationToken) =>
        ChangeAsync(userId, roomId, userId, Membership.Leave, reason, null, cancellationToken);

    /// <summary>Invites a user of this server; inviting someone already invited is not an error and sends nothing.</summary>
    public Task InviteAsync(string userId, string roomId, string target, string? reason, CancellationToken cancellationToken) =>
        ChangeAsync(userId, roomId, target, Membership.Invite, reason, current => current != Membership.Invite, cancellationToken);

    /// <summary>Kicks a user who is joined, invited or knocking: 403 for anyone else.</summary>
    public Task KickAsync(string userId, string roomId, string target, string? reason, CancellationToken cancellationToken) =>
        ChangeAsync(userId, roomId, target, Membership.Leave, reason, current => current is Membership.Join or Membership.Invite or Membership.Knock
            ? true
            : throw MatrixException.Forbidden($"{target} is not in the room."), cancellationToken);

    public Task BanAsync(string userId, string roomId, string target, string? reason, CancellationToken cancellationToken)
    {
        ParseUser(target);
        return ChangeAsync(userId, roomId, target, Membership.Ban, reason, null, cancellationToken);
    }

    /// <summary>Lifts a ban: 400 <c>M_BAD_STATE</c> when the user is not banned.</summary>
    public Task UnbanAsync(string userId, string roomId, string target, string? reason, CancellationToken cancellationToken) =>
        ChangeAsync(userId, roomId, target, Membership.Leave, reason, current => current == Membership.Ban
            ? true
            : throw new MatrixException(ErrorCode.BadState, $"{target} is not banned from the room."), cancellationToken);

    /// <summary>Knocks on a room named by id or alias; returns the room id.</summary>
    public async Task<string> KnockAsync(string userId, string roomIdOrAlias, string? reason, CancellationToken cancellationToken)
    {
        var roomId = ResolveRoom(roomIdOrAlias);
        using var append = await _rooms.LockAsync(roomId, cancellationToken)
            ?? throw MatrixException.NotFound("This server does not know the room, and knocking on rooms of other servers needs federation.");
        if (!append.Version.Knocking)
            throw MatrixException.Forbidden($"Room version {append.Version.Id} does not support knocking.");
        var content = new JsonObject { ["membership"] = Membership.Knock };
        AddReason(content, reason);
        append.Append(new EventDraft(EventTypes.Member, userId, userId, _rooms.WithProfile(content, userId)));
        await append.CommitAsync();
        return roomId;
    }

    /// <summary>
    /// Forgets a room the user has left or was banned from: its history is no longer theirs to read.
    /// 400 <c>M_UNKNOWN</c> while joined, invited or knocking; 404 for a room this server does not know.
    /// A membership made over federation in a room no user of ours is in (a rejected invite) is forgotten
    /// with its record.
    /// </summary>
    public async Task ForgetAsync(string userId, string roomId, CancellationToken cancellationToken)
    {
        if (_outOfRoom.Find(userId, roomId) is { } outOfRoom)
        {
            if (outOfRoom.Membership is not (Membership.Leave or Membership.Ban))
                throw new MatrixException(ErrorCode.BadRequest, $"You are still in the room (membership {outOfRoom.Membership}); leave it before forgetting it.");
            await _outOfRoom.ForgetAsync(userId, roomId);
            return;
        }
        using var append = await _rooms.LockAsync(roomId, cancellationToken) ?? throw MatrixException.NotFound("Unknown room.");
        var room = append.Room!;
        if (_events.Members.Get(room.ShortRoomId, userId) is not { } record || record.Forgotten)
            return;
        if (record.Membership is not (Membership.Leave or Membership.Ban))
            throw new MatrixException(ErrorCode.BadRequest, $"You are still in the room (membership {record.Membership}); leave it before forgetting it.");
        _events.Members.Forget(room.ShortRoomId, room.RoomId, userId, record, append.Write);
        await append.CommitAsync();
    }

    /// <summary>The rooms the user is joined to.</summary>
    public IReadOnlyList<string> JoinedRooms(string userId) =>
        [.. _events.Members.RoomsOf(userId, Membership.Join).Select(r => r.RoomId)];

    /// <summary>
    /// The member events of the state the user may read (<c>GET /members</c>), at the timeline
    /// position <paramref name="at"/> when given (but never after the user left), filtered by
    /// membership: with both filters an event passes when it matches <paramref name="membership"/>
    /// or differs from <paramref name="notMembership"/>.
    /// </summary>
    public JsonArray Members(string userId, string roomId, long? at, string? membership, string? notMembership)
    {
        var (room, state) = _rooms.ReadableState(userId, roomId);
        if (at is { } position)
        {
            var record = _events.Members.Get(room.ShortRoomId, userId);
            var limit = record is { Membership: Membership.Leave or Membership.Ban } ? Math.Min(position, record.Position) : position;
            if (limit < room.LastPosition)
                state = _events.StateAtPosition(room, limit);
        }

        var members = new JsonArray();
        foreach (var entry in state.Entries)
        {
            var (type, _) = _events.Ids.StateKeyOf(entry.Key);
            if (type != EventTypes.Member || _events.Timeline.Get(entry.Event) is not { } stored)
                continue;
            var value = stored.Membership;
            var passes = (membership, notMembership) switch
            {
                (null, null) => true,
                ({ } m, null) => value == m,
                (null, { } n) => value != n,
                ({ } m, { } n) => value == m || value != n,
            };
            if (passes)
                members.Add((JsonNode)_rooms.FormatState(stored, room, userId));
        }
        return members;
    }

    /// <summary>The joined members with their display names and avatars (<c>GET /joined_members</c>); only for members.</summary>
    public JsonObject JoinedMembers(string userId, string roomId)
    {
        var room = _events.Find(roomId);
        if (room is null || _events.Members.Get(room.ShortRoomId, userId)?.Membership != Membership.Join)
            throw RoomService.NotInRoom();
        var joined = new JsonObject();
        foreach (var member in _events.Members.Members(room.ShortRoomId, Membership.Join))
        {
            var info = new JsonObject();
            if (_events.StateEvent(room, EventTypes.Member, member) is { } stored)
            {
                if (StringField(stored.Content, "displayname") is { } name)
                    info["display_name"] = name;
                if (StringField(stored.Content, "avatar_url") is { } avatar)
                    info["avatar_url"] = avatar;
            }
            joined[member] = info;
        }
        return new JsonObject { ["joined"] = joined };
    }

    private async Task ChangeAsync(
        string userId, string roomId, string target, string membership, string? reason, Func<string, bool>? shouldSend, CancellationToken cancellationToken)
    {
        ParseUser(target);
        using var append = await _rooms.LockAsync(roomId, cancellationToken) ?? throw RoomService.NotInRoom();
        if (shouldSend is not null && !shouldSend(Membership.Of(append.State, target)))
            return;
        var content = new JsonObject { ["membership"] = membership };
        AddReason(content, reason);
        append.Append(new EventDraft(EventTypes.Member, target, userId, _rooms.WithProfile(content, target)));
        await append.CommitAsync();
    }

    /// <summary>
    /// A resident server's part of a restricted join: the user must be joined to one of the rooms
    /// the join rule allows, and a local member who may invite vouches for the join (its user id goes
    /// into <c>join_authorised_via_users_server</c>). 403 when neither holds.
    /// </summary>
    internal string AuthoriseRestrictedJoin(RoomAppend append, string userId)
    {
        var joinRules = append.StateEvent(EventTypes.JoinRules, "");
        var allowed = joinRules is null ? [] : JoinRules.AllowedRooms(joinRules.ContentObject());
        var satisfied = allowed.Any(room =>
            _events.Ids.FindRoom(room.Value) is { } shortRoomId && _events.Members.Get(shortRoomId, userId)?.Membership == Membership.Join);
        if (!satisfied)
            throw MatrixException.Forbidden("You are not invited to this room, and not joined to any room its join rules allow.");

        var state = append.State;
        var levels = PowerLevels.Of(state, append.Version);
        var candidates = new List<string>();
        if (state.Find(EventTypes.Create, "") is { } create)
            candidates.AddRange(RoomCreators.All(create));
        candidates.AddRange(levels.Users.OrderByDescending(u => u.Value).Select(u => u.Key));
        foreach (var candidate in candidates)
        {
            if (UserId.TryParse(candidate, out var parsed) && parsed.Server.Value == _config.ServerName
                && Membership.Of(state, candidate) == Membership.Join && levels.UserLevel(candidate) >= levels.Invite)
                return candidate;
        }
        if (levels.UsersDefault >= levels.Invite)
        {
            foreach (var member in _events.Members.Members(append.Room!.ShortRoomId, Membership.Join))
            {
                if (UserId.TryParse(member, out var parsed) && parsed.Server.Value == _config.ServerName)
                    return member;
            }
        }
        throw new MatrixException(ErrorCode.UnableToAuthoriseJoin, "No member of this server may invite users to the room, so the join cannot be authorised.");
    }

    private string ResolveRoom(string roomIdOrAlias)
    {
        if (RoomId.TryParse(roomIdOrAlias, out _))
            return roomIdOrAlias;
        if (!RoomAlias.TryParse(roomIdOrAlias, out var alias))
            throw MatrixException.InvalidParam($"\"{roomIdOrAlias}\" is neither a room id nor a room alias.");
        if (alias.Server.Value != _config.ServerName)
            throw MatrixException.NotFound("Resolving aliases of other servers needs federation.");
        return _aliases.Find(alias.Value)?.RoomId ?? throw MatrixException.NotFound($"Room alias {alias.Value} not found.");
    }

    private static UserId ParseUser(string userId) =>
        UserId.TryParse(userId, out var parsed) ? parsed : throw MatrixException.InvalidParam($"\"{userId}\" is not a valid user id.");

    private static void AddReason(JsonObject content, string? reason)
    {
        if (!string.IsNullOrEmpty(reason))
            content["reason"] = reason;
    }

    private static string? StringField(JsonElement content, string name) =>
        content.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
