using System.Collections.Immutable;
using System.Text.Json;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Core.Push;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Notifications;

/// <summary>
/// A room as push rule evaluation sees it at one state: the joined member count, the local joined
/// members with their display names in the room, and the power levels. Immutable and shared.
/// </summary>
internal sealed class RoomPushState
{
    private PushMember[]? _memberList;

    public RoomPushState(ulong stateHash, long joinedCount, ImmutableDictionary<string, PushMember> localMembers, PowerLevels powerLevels)
    {
        StateHash = stateHash;
        JoinedCount = joinedCount;
        LocalMembers = localMembers;
        PowerLevels = powerLevels;
    }

    /// <summary>The short state hash this describes.</summary>
    public ulong StateHash { get; }

    public long JoinedCount { get; }

    /// <summary>The local joined members by user id.</summary>
    public ImmutableDictionary<string, PushMember> LocalMembers { get; }

    public PowerLevels PowerLevels { get; }

    /// <summary>The local joined members as an array, made once per state for the per-member loop.</summary>
    public PushMember[] MemberList => _memberList ??= [.. LocalMembers.Values];

    public PushRoomContext ContextFor(string sender) => new(JoinedCount, PowerLevels.UserLevel(sender), PowerLevels.Notifications);

    /// <summary>The same room at another state hash (a state event that changes nothing evaluated here).</summary>
    public RoomPushState At(ulong stateHash) => new(stateHash, JoinedCount, LocalMembers, PowerLevels) { _memberList = _memberList };

    public RoomPushState WithMembers(long joinedCount, ImmutableDictionary<string, PushMember> localMembers) =>
        new(StateHash, joinedCount, localMembers, PowerLevels);

    public RoomPushState WithPowerLevels(PowerLevels powerLevels) =>
        new(StateHash, JoinedCount, LocalMembers, powerLevels) { _memberList = _memberList };
}

/// <summary>
/// The <see cref="RoomPushState"/> of each room, kept in step with its appends: built from the room
/// state the first time an event may notify someone, then carried along by every state event the
/// room appends (a member event changes one member, a power levels event re-reads the levels, any
/// other state event only the hash). One state per room is kept, the latest seen.
/// </summary>
/// <remarks>
/// Used under the room's lock only, so one room's states are never derived concurrently. A state is
/// a function of its short state hash (a snapshot's id never names other content), so it is
/// published as soon as it is derived: a batch that fails leaves a state that no later event has,
/// which is never matched and is replaced at the next derivation or build.
/// </remarks>
internal sealed class RoomPushStates(ServerName origin)
{
    private readonly LruCache<ulong, RoomPushState> _cache = new(1_000_000, s => s.LocalMembers.Count + 1);

    /// <summary>The room's push state just after the appended event.</summary>
    public RoomPushState After(StoredEvent stored, RoomAppend append)
    {
        var room = append.Room!;
        if (_cache.TryGet(room.ShortRoomId, out var cached) && cached.StateHash == room.StateHash)
            return cached;
        var built = Build(stored, append);
        _cache.Set(room.ShortRoomId, built);
        return built;
    }

    /// <summary>After a state event: carries the room's push state over to the new state, if the one before was known.</summary>
    public void Advance(StoredEvent stored, RoomAppend append)
    {
        var events = append.Events;
        var room = append.Room!;
        if (events.Index.Get(stored.ShortEventId, append.Write) is not { } record
            || record.StateBefore == room.StateHash
            || !_cache.TryGet(room.ShortRoomId, out var state)
            || state.StateHash != record.StateBefore)
            return;

        var next = state.At(room.StateHash);
        if (stored.Type == EventTypes.Member && stored.StateKey is { } userId)
        {
            var membership = stored.Membership;
            var previous = PreviousMembership(stored);
            var joined = next.JoinedCount + (membership == Membership.Join ? 1 : 0) - (previous == Membership.Join ? 1 : 0);
            var members = next.LocalMembers;
            if (IsLocal(userId))
            {
                members = membership == Membership.Join
                    ? members.SetItem(userId, new PushMember(UserId.Parse(userId), DisplayName(stored)))
                    : members.Remove(userId);
            }
            next = next.WithMembers(joined, members);
        }
        else if (stored.StateKey == "" && stored.Type is EventTypes.PowerLevels or EventTypes.Create)
        {
            next = next.WithPowerLevels(PowerLevels.Of(append.State, append.Version));
        }
        _cache.Set(room.ShortRoomId, next);
    }

    public bool IsLocal(string userId) => UserId.TryParse(userId, out var user) && user.Server == origin;

    /// <summary>The membership a member event replaced (<c>unsigned.prev_content</c>, as stored), or null.</summary>
    public static string? PreviousMembership(StoredEvent member) =>
        member.Root.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object
        && unsigned.TryGetProperty("prev_content", out var previous) && previous.ValueKind == JsonValueKind.Object
        && previous.TryGetProperty("membership", out var membership) && membership.ValueKind == JsonValueKind.String
            ? membership.GetString()
            : null;

    /// <summary>
    /// Reads the members from the membership index when the state is the one the store holds (the
    /// session's first event, not a state event: the index is in step with it, and only local
    /// members' events need reading); otherwise from the state's member events themselves.
    /// </summary>
    private RoomPushState Build(StoredEvent stored, RoomAppend append)
    {
        var events = append.Events;
        var room = append.Room!;
        var powerLevels = PowerLevels.Of(append.State, append.Version);
        var members = ImmutableDictionary.CreateBuilder<string, PushMember>(StringComparer.Ordinal);
        long joined = 0;
        if (!stored.IsState && append.Appended.Count == 1)
        {
            foreach (var userId in events.Members.Members(room.ShortRoomId, Membership.Join))
            {
                joined++;
                if (IsLocal(userId) && events.Members.Get(room.ShortRoomId, userId) is { } record)
                    members[userId] = new PushMember(UserId.Parse(userId), events.Timeline.Get(record.ShortEventId) is { } member ? DisplayName(member) : null);
            }
        }
        else
        {
            foreach (var entry in room.State.Entries)
            {
                if (events.Timeline.Get(entry.Event, append.Write) is not { Membership: Membership.Join, StateKey: { } userId } member)
                    continue;
                joined++;
                if (IsLocal(userId))
                    members[userId] = new PushMember(UserId.Parse(userId), DisplayName(member));
            }
        }
        return new RoomPushState(room.StateHash, joined, members.ToImmutable(), powerLevels);
    }

    private static string? DisplayName(StoredEvent member) =>
        member.Content.TryGetProperty("displayname", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
}
