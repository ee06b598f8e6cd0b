using System.Text.Json.Nodes;

namespace Conduit.Net.Services.Sync;

/// <summary>What the ephemeral providers share: which rooms they report on, and where their events go.</summary>
internal static class EphemeralEvents
{
    /// <summary>
    /// The joined rooms whose filters let events of <paramref name="type"/> through: those to
    /// report changes of since the token, and those reported from scratch (everything).
    /// </summary>
    public static (List<string> Incremental, List<string> Full) Rooms(SyncPass pass, string type)
    {
        var rooms = pass.JoinedRooms.Where(r => pass.Filter.Room.IncludesRoom(r) && pass.Filter.Room.Ephemeral.Matches(r, type, null, hasUrl: false)).ToList();
        return ([.. rooms.Where(r => !pass.FullRooms.Contains(r))], [.. rooms.Where(pass.FullRooms.Contains)]);
    }

    public static void Add(SyncPass pass, string roomId, JsonObject ev) =>
        ((JsonArray)pass.Response.JoinedRoom(roomId)["ephemeral"]!["events"]!).Add((JsonNode)ev);
}
