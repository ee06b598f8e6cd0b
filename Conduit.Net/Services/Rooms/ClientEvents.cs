using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// The client format of events ("ClientEvent" in the client-server API): the PDU without its
/// federation fields (hashes, signatures, auth and prev events, depth), with <c>room_id</c> always
/// set (a room version 12 create event has none in its PDU) and the server's <c>unsigned</c> data.
/// </summary>
public static class ClientEvents
{
    private static readonly HashSet<string> ClientKeys = ["content", "event_id", "origin_server_ts", "sender", "state_key", "type", "redacts", "unsigned"];

    /// <param name="now">When set, <c>unsigned.age</c> is the milliseconds since the event was sent.</param>
    /// <param name="transactionId">The txn id to show, for the device that sent the event.</param>
    public static JsonObject Format(StoredEvent stored, string roomId, long? now = null, string? transactionId = null)
    {
        // One parse of the stored PDU, then the federation fields go: cheaper than copying the rest key by key.
        var client = JsonNode.Parse(stored.Json)!.AsObject();
        foreach (var key in client.Select(p => p.Key).Where(k => !ClientKeys.Contains(k)).ToList())
            client.Remove(key);
        client["event_id"] = stored.EventId;
        client["room_id"] = roomId;
        if (stored.Type == "m.room.redaction")
            ServeRedactsAtBothLevels(client);

        var unsigned = client["unsigned"] as JsonObject ?? [];
        client.Remove("unsigned");
        if (now is { } time)
            unsigned["age"] = Math.Max(0, time - stored.OriginServerTs);
        if (transactionId is not null)
            unsigned["transaction_id"] = transactionId;
        if (unsigned.Count > 0)
            client["unsigned"] = unsigned;
        return client;
    }

    /// <summary>
    /// Room version 11 moved <c>redacts</c> from the top level into <c>content</c>. Over the
    /// client-server API the spec has servers add it at the top level in v11+ rooms for older clients
    /// (matrix-js-sdk reads only that one) and in <c>content</c> in older rooms for newer clients.
    /// </summary>
    private static void ServeRedactsAtBothLevels(JsonObject client)
    {
        if (client["content"] is not JsonObject content)
            return;
        if (client["redacts"] is JsonValue top && top.GetValueKind() == JsonValueKind.String)
            content.TryAdd("redacts", top.DeepClone());
        else if (content["redacts"] is JsonValue inner && inner.GetValueKind() == JsonValueKind.String)
            client["redacts"] = inner.DeepClone();
    }

    /// <summary>Sets <c>unsigned.m.relations</c> (the bundled aggregations) on a client event.</summary>
    public static void AddRelations(JsonObject client, JsonObject relations) => AddUnsigned(client, "m.relations", relations);

    public static void AddUnsigned(JsonObject client, string key, JsonNode value)
    {
        if (client["unsigned"] is not JsonObject unsigned)
            client["unsigned"] = unsigned = [];
        unsigned[key] = value;
    }

    /// <summary>
    /// The state events (state key <c>""</c>) that invite and knock room state carry: the ones the spec
    /// lists under "Stripped state", by which a client shows a room it cannot read yet.
    /// </summary>
    public static readonly IReadOnlyList<string> StrippedStateTypes =
        [EventTypes.Create, "m.room.name", "m.room.avatar", "m.room.topic", EventTypes.JoinRules, "m.room.canonical_alias", "m.room.encryption"];

    /// <summary>
    /// The stripped state form (<c>type</c>, <c>state_key</c>, <c>sender</c>, <c>content</c>) used for
    /// invite and knock room state.
    /// </summary>
    public static JsonObject Stripped(StoredEvent stored) => new()
    {
        ["type"] = stored.Type,
        ["state_key"] = stored.StateKey,
        ["sender"] = stored.Sender,
        ["content"] = stored.ContentObject(),
    };
}
