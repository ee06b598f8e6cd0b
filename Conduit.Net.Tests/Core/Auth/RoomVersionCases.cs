using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.Auth;

/// <summary>
/// The room versions each rule applies to, written out from the spec's room version pages rather than
/// read from the table's flags, so that a wrong flag in the table fails these tests.
/// </summary>
internal static class RoomVersionCases
{
    public static IEnumerable<RoomVersion> All => RoomVersion.Supported;

    /// <summary><c>content.creator</c> is required and names the creator.</summary>
    public static IEnumerable<RoomVersion> CreatorInContent => Ids(1, 10);

    public static IEnumerable<RoomVersion> CreatorIsSender => Ids(11, 12);

    public static IEnumerable<RoomVersion> ServerScopedRoomIds => Ids(1, 11);

    public static IEnumerable<RoomVersion> RoomIdIsCreateEventHash => Ids(12, 12);

    public static IEnumerable<RoomVersion> AliasesRule => Ids(1, 5);

    public static IEnumerable<RoomVersion> NoAliasesRule => Ids(6, 12);

    public static IEnumerable<RoomVersion> NoNotificationsRule => Ids(1, 5);

    public static IEnumerable<RoomVersion> NotificationsRule => Ids(6, 12);

    public static IEnumerable<RoomVersion> NoKnocking => Ids(1, 6);

    public static IEnumerable<RoomVersion> Knocking => Ids(7, 12);

    public static IEnumerable<RoomVersion> NoRestricted => Ids(1, 7);

    public static IEnumerable<RoomVersion> Restricted => Ids(8, 12);

    /// <summary>Knocking and restricted joins, but not the two together.</summary>
    public static IEnumerable<RoomVersion> RestrictedWithoutKnockRestricted => Ids(8, 9);

    public static IEnumerable<RoomVersion> KnockRestricted => Ids(10, 12);

    public static IEnumerable<RoomVersion> StringPowerLevels => Ids(1, 9);

    public static IEnumerable<RoomVersion> IntegerOnlyPowerLevels => Ids(10, 12);

    public static IEnumerable<RoomVersion> RedactionsInAuthRules => Ids(1, 2);

    public static IEnumerable<RoomVersion> RedactionsCheckedWhenApplied => Ids(3, 12);

    public static IEnumerable<RoomVersion> CreatorsUnlimited => Ids(12, 12);

    public static IEnumerable<RoomVersion> CreatorHas100WithoutPowerLevels => Ids(1, 11);

    private static IEnumerable<RoomVersion> Ids(int from, int to) =>
        Enumerable.Range(from, to - from + 1).Select(n => RoomVersion.Get(n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
