using System.Text.Json.Nodes;
using Conduit.Net.Services.Notifications;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The unread notification counts of <c>/sync</c> (spec "Receiving notifications"): every joined
/// room in the response gets <c>unread_notifications</c>; when the filter's room timeline sets
/// <c>unread_thread_notifications</c>, those are the main timeline's counts and each thread with
/// something unread is listed under <c>unread_thread_notifications</c> by its root.
/// </summary>
/// <remarks>
/// Runs after the streams that put rooms into the response. A room's counts change only with a new
/// event in it (the timeline), the user's own receipt (the receipt stream, which shows a user their
/// private receipts too) or their membership (the rooms stream), so the room is in the response
/// whenever its counts changed, and this stream watches nothing of its own.
/// </remarks>
public sealed class UnreadNotificationsProvider : ISyncProvider
{
    private readonly NotificationService _notifications;

    public UnreadNotificationsProvider(NotificationService notifications)
    {
        _notifications = notifications;
    }

    public void Watch(SyncWatch watch)
    {
    }

    public void Write(SyncPass pass)
    {
        var threaded = pass.Filter.Room.Timeline.UnreadThreadNotifications;
        foreach (var roomId in pass.JoinedRooms)
        {
            if (!pass.Response.HasJoinedRoom(roomId))
                continue;
            var room = pass.Response.JoinedRoom(roomId);
            if (!threaded)
            {
                room["unread_notifications"] = ToJson(_notifications.GetUnread(pass.UserId, roomId));
                continue;
            }
            var counts = _notifications.GetUnreadByThread(pass.UserId, roomId);
            room["unread_notifications"] = ToJson(counts.Main);
            if (counts.Threads.Count > 0)
                room["unread_thread_notifications"] = new JsonObject(counts.Threads.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)ToJson(t.Value))));
        }
    }

    private static JsonObject ToJson(UnreadCounts counts) => new()
    {
        ["notification_count"] = counts.NotificationCount,
        ["highlight_count"] = counts.HighlightCount,
    };
}
