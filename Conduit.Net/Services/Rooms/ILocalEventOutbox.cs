using Conduit.Net.Core.Events;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Where local events leave this server: the append path hands each local event, right after writing
/// it, to every registered outbox under the room's lock, and the outbox queues it for delivery in the
/// same <see cref="RoomWrite"/>, so that an event is never durable without its delivery (or the reverse).
/// </summary>
public interface ILocalEventOutbox
{
    /// <summary><paramref name="pdu"/> (a local event, as signed) was just written into <paramref name="append"/>'s batch.</summary>
    void Queue(Pdu pdu, RoomAppend append);
}
