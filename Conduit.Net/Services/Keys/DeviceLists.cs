using System.Text.Json;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Services.Sync;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Keys;

/// <summary>Whose device lists a user should fetch again, and whom they no longer need to track.</summary>
public sealed record DeviceListChanges(IReadOnlyList<string> Changed, IReadOnlyList<string> Left);

/// <summary>
/// Device-list tracking (the spec's "Tracking the device list for a user") for sync and
/// <c>/keys/changes</c>: over a window of positions, the users who share a room with the user and
/// whose device list changed, or who newly share a room with them (either side joined), and the
/// users with whom the user no longer shares any room after a leave in the window.
/// </summary>
/// <remarks>
/// "Sharing a room" is read from the current joined memberships, not as of the window's end: a
/// change that lands meanwhile is reported again by the next window, which clients tolerate.
/// </remarks>
public sealed class DeviceLists
{
    private readonly DeviceKeyStore _keys;
    private readonly RoomEvents _events;

    public DeviceLists(DeviceKeyStore keys, RoomEvents events)
    {
        _keys = keys;
        _events = events;
    }

    /// <summary>
    /// <c>GET /keys/changes</c>: the changes between two sync tokens; 400 <c>M_INVALID_PARAM</c> for a
    /// token this server did not hand out. Tokens in the wrong order give nothing.
    /// </summary>
    public DeviceListChanges Changes(string userId, string from, string to)
    {
        var latest = _keys.Store.CommittedCount;
        return Changes(userId, SyncToken.Parse(from, latest), SyncToken.Parse(to, latest));
    }

    /// <summary>The changes that concern <paramref name="userId"/> at positions in (<paramref name="since"/>, <paramref name="upTo"/>].</summary>
    public DeviceListChanges Changes(string userId, ulong since, ulong upTo)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        var left = new SortedSet<string>(StringComparer.Ordinal);
        if (upTo <= since)
            return new DeviceListChanges([], []);

        var joined = _events.Members.RoomsOf(userId, Membership.Join).Select(r => r.RoomId).ToHashSet(StringComparer.Ordinal);
        var sharing = new Dictionary<string, bool>(StringComparer.Ordinal) { [userId] = true };
        bool Shares(string other)
        {
            if (!sharing.TryGetValue(other, out var shares))
                sharing[other] = shares = _events.Members.RoomsOf(other, Membership.Join).Any(r => joined.Contains(r.RoomId));
            return shares;
        }
        foreach (var (other, onlyFor) in _keys.ChangedUsers(since, upTo))
        {
            if (onlyFor is null ? Shares(other) : onlyFor == userId)
                changed.Add(other);
        }

        // The user's own joins and leaves: a joined room's members are new to them, a left room's may be gone.
        foreach (var change in _events.Members.ChangesSince(userId, (long)since))
        {
            if (change.Position > (long)upTo || _events.Ids.FindRoom(change.RoomId) is not { } shortRoomId)
                continue;
            var isJoined = joined.Contains(change.RoomId);
            if (change.Membership == Membership.Join && isJoined)
                changed.UnionWith(_events.Members.Members(shortRoomId, Membership.Join));
            else if (change.Membership is Membership.Leave or Membership.Ban && !isJoined)
                left.UnionWith(_events.Members.Members(shortRoomId, Membership.Join).Where(m => !Shares(m)));
        }

        // Others joining or leaving the user's rooms, read from the member events in the window
        // (a live client's window holds a few events; a room's member list may hold thousands).
        foreach (var roomId in joined)
        {
            if (_events.Ids.FindRoom(roomId) is not { } shortRoomId)
                continue;
            foreach (var ev in _events.Timeline.Range(shortRoomId, (long)since, (long)upTo, newestFirst: false))
            {
                if (ev.Type != EventTypes.Member || ev.StateKey is not { } member || member == userId)
                    continue;
                var wasJoined = PreviousMembership(ev) == Membership.Join;
                var current = _events.Members.Get(shortRoomId, member)?.Membership;
                if (ev.Membership == Membership.Join && !wasJoined && current == Membership.Join)
                    changed.Add(member);
                else if (ev.Membership is Membership.Leave or Membership.Ban && wasJoined && current != Membership.Join && !Shares(member))
                    left.Add(member);
            }
        }
        return new DeviceListChanges([.. changed], [.. left]);
    }

    private static string? PreviousMembership(StoredEvent ev) =>
        ev.Root.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object
        && unsigned.TryGetProperty("prev_content", out var previous) && previous.ValueKind == JsonValueKind.Object
        && previous.TryGetProperty("membership", out var membership) && membership.ValueKind == JsonValueKind.String
            ? membership.GetString()
            : null;

    /// <summary>
    /// A remote user's server told of a change of his devices or cross-signing keys
    /// (<c>m.device_list_update</c>, <c>m.signing_key_update</c>): the local users who share a room
    /// with him see him in <c>device_lists.changed</c> and fetch his keys again, over federation
    /// (there is no cache of remote device lists to update). Nothing is recorded for a user who
    /// shares no room with a local user.
    /// </summary>
    public void RemoteUserChanged(string userId)
    {
        if (_events.Members.RoomsOf(userId, Membership.Join).Count == 0)
            return;
        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            _keys.RecordChange(batch, userId);
            _keys.Store.Commit(batch);
        }
    }

    /// <summary>
    /// Completes at the next device-list change anywhere (one-shot, the store's register-read-await
    /// contract). Joins and leaves wake sync through the rooms stream's own watches.
    /// </summary>
    public Task Watch(CancellationToken cancellationToken) => _keys.WatchChanges(cancellationToken);
}
