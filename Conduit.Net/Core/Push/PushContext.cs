using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Core.Push;

/// <summary>
/// What push rule evaluation needs beyond the event, all as of the event's room state, for one user
/// (see <see cref="PushEvaluator"/>; evaluating for many users splits it into a
/// <see cref="PushRoomContext"/> and one <see cref="PushMember"/> each).
/// </summary>
/// <param name="User">The user whose rules are evaluated.</param>
/// <param name="DisplayName">The user's display name in the room (their member event's <c>displayname</c>), if any.</param>
/// <param name="RoomMemberCount">The room's joined member count, for <c>room_member_count</c>.</param>
/// <param name="SenderPowerLevel">The sender's power level (<see cref="long.MaxValue"/> for a room
/// creator in room versions where creators have unlimited power).</param>
/// <param name="NotificationPowerLevels">The <c>notifications</c> object of the room's <c>m.room.power_levels</c>.</param>
public sealed record PushContext(
    UserId User,
    string? DisplayName,
    long RoomMemberCount,
    long SenderPowerLevel,
    IReadOnlyDictionary<string, long> NotificationPowerLevels)
{
    /// <summary>The level the power-levels schema gives <c>notifications.room</c> when it is unspecified.</summary>
    public const long DefaultNotificationPowerLevel = PushRoomContext.DefaultNotificationPowerLevel;

    public PushRoomContext Room => new(RoomMemberCount, SenderPowerLevel, NotificationPowerLevels);

    public PushMember Member => new(User, DisplayName);

    /// <summary>The power level a sender needs for a notification key, 50 when the room does not say.</summary>
    public long RequiredPowerLevel(string key) => Room.RequiredPowerLevel(key);
}
