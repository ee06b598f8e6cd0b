using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Relations;

/// <summary>
/// The bundled aggregations of an event ("Aggregations of child events"): <c>m.thread</c> (the newest
/// reply, the reply count, whether the user took part), <c>m.replace</c> (the most recent valid edit,
/// as a whole event, since v1.7) and <c>m.reference</c> (the ids of the referencing events).
/// Annotations are not aggregated by the server, state events get no bundle, and an event without
/// bundled children costs one point read.
/// </summary>
/// <remarks>
/// The original's content is left as it is: servers no longer apply edits. Children the user may not
/// see (history visibility) are left out of the bundle.
/// </remarks>
public sealed class BundledAggregations : IBundledAggregations
{
    /// <summary>The newest edits compared for the most recent one: their timestamps follow their positions but for clock skew, and a flood of edits must not make every read of the original slow.</summary>
    private const int EditsCompared = 100;

    /// <summary>Hidden thread replies passed over looking for a visible newest one.</summary>
    private const int ThreadRepliesScanned = 100;

    private readonly RelationIndex _index;
    private readonly RoomEvents _events;
    private readonly HistoryVisibility _visibility;
    private readonly TimeProvider _time;

    public BundledAggregations(RelationIndex index, RoomEvents events, HistoryVisibility visibility, TimeProvider time)
    {
        _index = index;
        _events = events;
        _visibility = visibility;
        _time = time;
    }

    public JsonObject? Bundle(StoredEvent stored, RoomSnapshot room, string userId) => Bundle(stored, room, userId, null, nested: false);

    /// <param name="nested">For a thread's <c>latest_event</c>: its own children are bundled, but no thread (threads do not nest).</param>
    private JsonObject? Bundle(StoredEvent stored, RoomSnapshot room, string userId, HistoryVisibility.Checker? checker, bool nested)
    {
        if (stored.IsState)
            return null;
        var aggregate = _index.Aggregate(room.ShortRoomId, stored.EventId);
        if (aggregate.IsEmpty)
            return null;
        checker ??= _visibility.ForClient(userId, room);
        var relations = new JsonObject();
        if (!nested && aggregate.ThreadCount > 0 && Thread(stored, room, userId, checker, aggregate.ThreadCount) is { } thread)
            relations[Relation.Thread] = thread;
        if (aggregate.ReplaceCount > 0 && !stored.IsRedacted && LatestEdit(stored, room, checker) is { } edit)
            relations[Relation.Replace] = ClientEvents.Format(edit, room.RoomId, Now);
        if (aggregate.ReferenceCount > 0 && References(stored, room, checker) is { Count: > 0 } chunk)
            relations[Relation.Reference] = new JsonObject { ["chunk"] = chunk };
        return relations.Count > 0 ? relations : null;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private JsonObject? Thread(StoredEvent root, RoomSnapshot room, string userId, HistoryVisibility.Checker checker, long count)
    {
        var latest = _index.Children(room.ShortRoomId, root.EventId, Relation.Thread, null, null, newestFirst: true)
            .Take(ThreadRepliesScanned)
            .Select(entry => _events.Timeline.Get(entry.ShortEventId))
            .FirstOrDefault(reply => reply is not null && checker.MaySee(reply));
        if (latest is null)
            return null;
        var latestEvent = ClientEvents.Format(latest, room.RoomId, Now);
        if (Bundle(latest, room, userId, checker, nested: true) is { } latestRelations)
            ClientEvents.AddRelations(latestEvent, latestRelations);
        return new JsonObject
        {
            ["latest_event"] = latestEvent,
            ["count"] = count,
            ["current_user_participated"] = root.Sender == userId || _index.RepliedInThread(room.ShortRoomId, root.EventId, userId),
        };
    }

    /// <summary>
    /// The most recent valid replacement ("Validity of replacement events"): same sender and type as the
    /// original, neither a state event, the original not an edit itself, and <c>m.new_content</c> present
    /// (unless encrypted, where it hides in the ciphertext). Most recent is the greatest
    /// <c>origin_server_ts</c>, then the greatest event id.
    /// </summary>
    private StoredEvent? LatestEdit(StoredEvent original, RoomSnapshot room, HistoryVisibility.Checker checker)
    {
        if (Relation.Read(original.Content)?.RelType == Relation.Replace)
            return null;
        StoredEvent? best = null;
        foreach (var entry in _index.Children(room.ShortRoomId, original.EventId, Relation.Replace, null, null, newestFirst: true).Take(EditsCompared))
        {
            if (entry.EventType != original.Type
                || _events.Timeline.Get(entry.ShortEventId) is not { } edit
                || edit.Sender != original.Sender
                || edit.IsState
                || (edit.Type != "m.room.encrypted" && !(edit.Content.TryGetProperty("m.new_content", out var newContent) && newContent.ValueKind == JsonValueKind.Object))
                || !checker.MaySee(edit))
                continue;
            if (best is null
                || edit.OriginServerTs > best.OriginServerTs
                || (edit.OriginServerTs == best.OriginServerTs && string.CompareOrdinal(edit.EventId, best.EventId) > 0))
                best = edit;
        }
        return best;
    }

    private JsonArray References(StoredEvent parent, RoomSnapshot room, HistoryVisibility.Checker checker)
    {
        var chunk = new JsonArray();
        foreach (var entry in _index.Children(room.ShortRoomId, parent.EventId, Relation.Reference, null, null, newestFirst: false))
        {
            if (_events.Timeline.Get(entry.ShortEventId) is { } reference && checker.MaySee(reference))
                chunk.Add((JsonNode)new JsonObject { ["event_id"] = reference.EventId });
        }
        return chunk;
    }
}
