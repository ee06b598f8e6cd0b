namespace Conduit.Net.Core.RoomVersions;

/// <summary>
/// The room versions this server supports, all of them stable in the spec. The per-version rules
/// table that rooms need will live next to this and should become the one source of the list.
/// </summary>
public static class SupportedRoomVersions
{
    public static readonly IReadOnlyList<string> Stable = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];
}
