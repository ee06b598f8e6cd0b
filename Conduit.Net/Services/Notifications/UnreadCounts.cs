namespace Conduit.Net.Services.Notifications;

/// <summary>A room's (or one thread's) unread notifications for a user, as <c>/sync</c>'s <c>unread_notifications</c> shows them.</summary>
/// <param name="NotificationCount">Unread events that notify.</param>
/// <param name="HighlightCount">Those of them that also highlight.</param>
public sealed record UnreadCounts(long NotificationCount, long HighlightCount)
{
    public static UnreadCounts None { get; } = new(0, 0);

    public bool IsNone => NotificationCount == 0 && HighlightCount == 0;

    public UnreadCounts Plus(UnreadCounts other) =>
        new(NotificationCount + other.NotificationCount, HighlightCount + other.HighlightCount);
}

/// <summary>
/// A room's unread notifications split by thread, for a <c>/sync</c> whose filter sets
/// <c>unread_thread_notifications</c>: <see cref="Main"/> is <c>unread_notifications</c> (the main
/// timeline only), <see cref="Threads"/> is <c>unread_thread_notifications</c> (thread root id →
/// counts, threads without unread notifications left out).
/// </summary>
public sealed record ThreadedUnreadCounts(UnreadCounts Main, IReadOnlyDictionary<string, UnreadCounts> Threads);
