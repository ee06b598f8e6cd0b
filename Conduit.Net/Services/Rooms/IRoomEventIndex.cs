namespace Conduit.Net.Services.Rooms;

/// <summary>
/// An index another service keeps over room events (relations, for one), written into the same
/// <see cref="RoomWrite"/> as the events it covers so that it never disagrees with the timeline.
/// The append path calls every registered index under the room's lock, in registration order.
/// </summary>
public interface IRoomEventIndex
{
    /// <summary>
    /// The service's own rules for a local event that the auth rules allowed, before it is stored:
    /// throws a <see cref="Core.Errors.MatrixException"/> to refuse it.
    /// </summary>
    void CheckLocal(EventDraft draft, RoomAppend append);

    /// <summary>The event was just written into <paramref name="append"/>'s batch.</summary>
    void Appended(StoredEvent stored, RoomAppend append);

    /// <summary><paramref name="original"/>, as it was before, was just replaced by its redaction in <paramref name="append"/>'s batch.</summary>
    void Redacted(StoredEvent original, RoomAppend append);
}
