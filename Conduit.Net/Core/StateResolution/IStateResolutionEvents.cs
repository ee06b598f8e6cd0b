using Conduit.Net.Core.Events;

namespace Conduit.Net.Core.StateResolution;

/// <summary>
/// What state resolution reads from the caller: events by id and whether each was rejected. Resolution
/// asks only for events named by the state sets and, transitively, by their <c>auth_events</c>; it asks
/// for each id at most once per resolution.
/// </summary>
public interface IStateResolutionEvents
{
    /// <summary>The event, or null if the caller does not have it.</summary>
    Pdu? Find(string eventId);

    /// <summary>
    /// Whether the event was rejected on receipt. Rejected events are still re-checked when they are
    /// themselves part of the conflict, but never serve as someone else's auth event.
    /// </summary>
    bool IsRejected(string eventId);
}
