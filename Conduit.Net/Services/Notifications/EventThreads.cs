using Conduit.Net.Services.Relations;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Notifications;

/// <summary>
/// Which thread an event belongs to, for threaded receipts and notification counts (spec "Threaded
/// read receipts", "Marking notifications as read"): the root of the first <c>m.thread</c> relation
/// found by following the event's relations, at most <see cref="MaxHops"/> events up; otherwise
/// <c>main</c>. Thread roots, and events related to a root by anything but <c>m.thread</c>, are in
/// the main timeline.
/// </summary>
internal static class EventThreads
{
    /// <summary>How many related events are followed, as the spec recommends (so that a reaction to a threaded reply is in the thread).</summary>
    public const int MaxHops = 3;

    public static string Of(StoredEvent stored, RoomAppend append)
    {
        var content = stored.Content;
        for (var hop = 0; hop <= MaxHops; hop++)
        {
            if (Relation.Read(content) is not { } relation)
                return UnreadStore.MainThread;
            if (relation.RelType == Relation.Thread)
                return relation.ParentId;
            if (hop == MaxHops || append.FindEvent(relation.ParentId) is not { } parent)
                return UnreadStore.MainThread;
            content = parent.Content;
        }
        return UnreadStore.MainThread;
    }
}
