using System.Text.Json.Nodes;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// The server-side aggregations of an event's children ("bundled aggregations", <c>unsigned.m.relations</c>)
/// that <see cref="RoomService.Format"/> adds to every event it serves.
/// </summary>
public interface IBundledAggregations
{
    /// <summary>The <c>m.relations</c> object for <paramref name="stored"/> as <paramref name="userId"/> sees it, or null when there is nothing to bundle.</summary>
    JsonObject? Bundle(StoredEvent stored, RoomSnapshot room, string userId);
}
