using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// A room as of its latest event: what appending the next one needs (version, current state,
/// forward extremities) and what readers of the current state use. Immutable: an append publishes a
/// new snapshot once its batch has committed, so readers never see uncommitted state.
/// </summary>
/// <param name="StateHash">Short state hash of the current state (after the latest event).</param>
/// <param name="Extremities">Short event ids of the forward extremities, the next event's prev_events.</param>
/// <param name="LastPosition">Timeline position of the latest event.</param>
public sealed record RoomSnapshot(
    string RoomId,
    ulong ShortRoomId,
    RoomVersion Version,
    ulong StateHash,
    StateSet State,
    IReadOnlyList<ulong> Extremities,
    long LastPosition);
