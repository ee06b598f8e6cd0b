using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.Auth;

/// <summary>
/// Rule 10 (9 in versions 6 to 11, 10 in 1 to 5): <c>m.room.power_levels</c>. The content must be
/// well formed for the room version, and nobody may grant more than their own level, nor change a
/// level (or a user) at or above it — except lowering their own.
/// </summary>
public static class PowerLevelsAuth
{
    public static AuthResult Check(Pdu pdu, IStateLookup state, Pdu create, PowerLevels current)
    {
        var version = pdu.Version;

        // 10.1-10.3 The levels are integers (before version 10 also integer strings), users keyed by user ids.
        var proposed = PowerLevelValues.ReadStrict(pdu.Content, version, out var problem);
        if (proposed is null)
            return Reject($"The power levels are malformed: {problem}");

        // 10.4 (version 12) The creators' power is not the power levels' to give.
        if (version.PrivilegedCreators && RoomCreators.All(create).FirstOrDefault(proposed.Users.ContainsKey) is { } creator)
            return Reject($"{creator} is a creator of the room, whose power level cannot be set in m.room.power_levels.");

        // 10.5 If there is no previous m.room.power_levels event in the room, allow.
        if (state.Find(EventTypes.PowerLevels, "") is not { } previous)
            return AuthResult.Allowed;
        var existing = PowerLevelValues.ReadLenient(previous.Content, version);

        var sender = pdu.Sender.Value;
        var senderLevel = current.UserLevel(sender);

        // 10.6 Added, changed or removed top-level levels: neither the old nor the new value above the sender's.
        foreach (var key in PowerLevelValues.TopLevelKeys)
        {
            var rejection = CheckChange(key, existing.TopLevel, proposed.TopLevel, senderLevel, key);
            if (rejection is not null)
                return rejection;
        }

        // 10.7-10.8 The same for events, and (version 6 on) notifications, entry by entry.
        var rejectionInMaps = CheckMap("events", existing.Events, proposed.Events, senderLevel)
            ?? (version.NotificationsInPowerLevelRules ? CheckMap("notifications", existing.Notifications, proposed.Notifications, senderLevel) : null);
        if (rejectionInMaps is not null)
            return rejectionInMaps;

        // 10.9-10.10 users: the sender cannot touch a user at or above their own level (their own entry
        // excepted), nor give anyone more than their own level.
        foreach (var user in existing.Users.Keys.Union(proposed.Users.Keys))
        {
            var hadLevel = existing.Users.TryGetValue(user, out var oldLevel);
            var hasLevel = proposed.Users.TryGetValue(user, out var newLevel);
            if (hadLevel && hasLevel && oldLevel == newLevel)
                continue;
            if (hadLevel && user != sender && oldLevel >= senderLevel)
                return Reject($"{sender} cannot change the power level of {user}, which is {oldLevel}, not below their own {EventAuth.Describe(senderLevel)}.");
            if (hasLevel && newLevel > senderLevel)
                return Reject($"{sender} cannot give {user} power level {newLevel}, above their own {EventAuth.Describe(senderLevel)}.");
        }

        // 10.11 Otherwise, allow.
        return AuthResult.Allowed;
    }

    private static AuthResult? CheckMap(string name, Dictionary<string, long> existing, Dictionary<string, long> proposed, long senderLevel)
    {
        foreach (var key in existing.Keys.Union(proposed.Keys))
        {
            var rejection = CheckChange(key, existing, proposed, senderLevel, $"{name}.{key}");
            if (rejection is not null)
                return rejection;
        }
        return null;
    }

    /// <summary>One level that may have been added, changed or removed: the old and the new value may not exceed the sender's level.</summary>
    private static AuthResult? CheckChange(string key, Dictionary<string, long> existing, Dictionary<string, long> proposed, long senderLevel, string label)
    {
        var hadLevel = existing.TryGetValue(key, out var oldLevel);
        var hasLevel = proposed.TryGetValue(key, out var newLevel);
        if (hadLevel == hasLevel && oldLevel == newLevel)
            return null;
        if (hadLevel && oldLevel > senderLevel)
            return Reject($"{label} is {oldLevel}, above the sender's power level {senderLevel}, so the sender cannot change it.");
        if (hasLevel && newLevel > senderLevel)
            return Reject($"{label} cannot be set to {newLevel}, above the sender's power level {senderLevel}.");
        return null;
    }

    private static AuthResult Reject(string reason) => AuthResult.Reject(AuthRule.PowerLevels, reason);
}
