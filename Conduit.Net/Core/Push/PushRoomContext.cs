namespace Conduit.Net.Core.Push;

/// <summary>
/// What push rule evaluation needs of the room, as of the event: the same for every user the
/// rules are evaluated for.
/// </summary>
/// <param name="RoomMemberCount">The room's joined member count, for <c>room_member_count</c>.</param>
/// <param name="SenderPowerLevel">The sender's power level (<see cref="long.MaxValue"/> for a room
/// creator in room versions where creators have unlimited power).</param>
/// <param name="NotificationPowerLevels">The <c>notifications</c> object of the room's <c>m.room.power_levels</c>.</param>
public sealed record PushRoomContext(
    long RoomMemberCount,
    long SenderPowerLevel,
    IReadOnlyDictionary<string, long> NotificationPowerLevels)
{
    /// <summary>The level the power-levels schema gives <c>notifications.room</c> when it is unspecified.</summary>
    public const long DefaultNotificationPowerLevel = 50;

    /// <summary>The power level a sender needs for a notification key, 50 when the room does not say.</summary>
    public long RequiredPowerLevel(string key) =>
        NotificationPowerLevels.TryGetValue(key, out var level) ? level : DefaultNotificationPowerLevel;
}
