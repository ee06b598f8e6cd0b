namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Fetches a room's history from before the earliest event this server holds (from other servers in the
/// room), for <see cref="RoomHistory"/> when a client pages back past it.
/// </summary>
public interface IRoomBackfill
{
    /// <summary>
    /// Stores earlier events of the room before everything it has. False when there is nothing earlier
    /// to fetch (the room's history starts here) or no server answered with anything new.
    /// </summary>
    Task<bool> BackfillAsync(RoomSnapshot room, CancellationToken cancellationToken);
}
