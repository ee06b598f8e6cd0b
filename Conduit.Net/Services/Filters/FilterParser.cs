using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Filters;

/// <summary>
/// Reads a filter definition (the JSON of <c>POST /user/{userId}/filter</c> or an inline
/// <c>filter</c>) into a <see cref="Filter"/>, checking the shape the spec gives each field.
/// </summary>
/// <remarks>
/// A field of the wrong type is <c>M_BAD_JSON</c> naming the field. Unknown fields are ignored, as
/// they may come from a newer spec; a JSON <c>null</c> counts as the field being absent. Room ids
/// must start with <c>!</c> and user ids with <c>@</c> (the schema's patterns); other checks of
/// their grammar would only reject ids that the filter can never match anyway.
/// A <c>limit</c> of 0 is accepted although the spec asks clients for more than 0: it is an
/// unambiguous "none" that Synapse and Conduit accept, and refusing it would break such clients.
/// </remarks>
public static class FilterParser
{
    /// <summary>The filter of a JSON object; <c>M_BAD_JSON</c> for a field of the wrong shape.</summary>
    public static Filter Parse(JsonObject definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new Filter
        {
            EventFields = StringList(definition, "event_fields", ""),
            EventFormat = Format(definition),
            Presence = Object(definition, "presence", "") is { } presence ? ParseEventFilter(presence, "presence.") : EventFilter.Everything,
            AccountData = Object(definition, "account_data", "") is { } accountData ? ParseEventFilter(accountData, "account_data.") : EventFilter.Everything,
            Room = Object(definition, "room", "") is { } room ? ParseRoomFilter(room) : RoomFilter.Everything,
        };
    }

    /// <summary>
    /// An inline filter as <c>/sync</c> takes it in the query string:
    /// <c>M_NOT_JSON</c> when it does not parse, <c>M_BAD_JSON</c> when it is not an object or a
    /// field has the wrong shape. The spec names no error code for these; the rule is Synapse's for
    /// <c>/sync</c>, and <see cref="ParseInlineRoomEventFilter"/> follows it too, so that a bad
    /// filter is the same error on every endpoint.
    /// </summary>
    public static Filter ParseInline(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(ParseInlineObject(json));
    }

    /// <summary>The inline JSON of a filter as an object, with the errors of <see cref="ParseInline"/>.</summary>
    public static JsonObject ParseInlineObject(string json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            throw MatrixException.NotJson("The filter is not valid JSON.");
        }
        return node as JsonObject ?? throw MatrixException.BadJson("The filter must be a JSON object.");
    }

    /// <summary>The inline <c>RoomEventFilter</c> of <c>/messages</c> and <c>/context</c>, with the errors of <see cref="ParseInline"/>.</summary>
    public static RoomEventFilter ParseInlineRoomEventFilter(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ParseRoomEventFilter(ParseInlineObject(json), "");
    }

    /// <summary>A <c>RoomEventFilter</c> on its own, as <c>/messages</c> and <c>/context</c> take it.</summary>
    public static RoomEventFilter ParseRoomEventFilter(JsonObject definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return ParseRoomEventFilter(definition, "");
    }

    private static RoomFilter ParseRoomFilter(JsonObject room) => new()
    {
        Rooms = IdList(room, "rooms", "room.", '!'),
        NotRooms = IdList(room, "not_rooms", "room.", '!'),
        IncludeLeave = Bool(room, "include_leave", "room.") ?? false,
        Timeline = Object(room, "timeline", "room.") is { } timeline ? ParseRoomEventFilter(timeline, "room.timeline.") : RoomEventFilter.Everything,
        State = Object(room, "state", "room.") is { } state ? ParseRoomEventFilter(state, "room.state.") : RoomEventFilter.Everything,
        Ephemeral = Object(room, "ephemeral", "room.") is { } ephemeral ? ParseRoomEventFilter(ephemeral, "room.ephemeral.") : RoomEventFilter.Everything,
        AccountData = Object(room, "account_data", "room.") is { } accountData ? ParseRoomEventFilter(accountData, "room.account_data.") : RoomEventFilter.Everything,
    };

    private static EventFilter ParseEventFilter(JsonObject filter, string path) => new()
    {
        Limit = Limit(filter, path),
        Types = StringList(filter, "types", path),
        NotTypes = StringList(filter, "not_types", path),
        Senders = IdList(filter, "senders", path, '@'),
        NotSenders = IdList(filter, "not_senders", path, '@'),
    };

    private static RoomEventFilter ParseRoomEventFilter(JsonObject filter, string path) => new()
    {
        Limit = Limit(filter, path),
        Types = StringList(filter, "types", path),
        NotTypes = StringList(filter, "not_types", path),
        Senders = IdList(filter, "senders", path, '@'),
        NotSenders = IdList(filter, "not_senders", path, '@'),
        Rooms = IdList(filter, "rooms", path, '!'),
        NotRooms = IdList(filter, "not_rooms", path, '!'),
        ContainsUrl = Bool(filter, "contains_url", path),
        LazyLoadMembers = Bool(filter, "lazy_load_members", path) ?? false,
        IncludeRedundantMembers = Bool(filter, "include_redundant_members", path) ?? false,
        UnreadThreadNotifications = Bool(filter, "unread_thread_notifications", path) ?? false,
    };

    private static EventFormat Format(JsonObject definition) => Value(definition, "event_format") switch
    {
        null => EventFormat.Client,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>() switch
        {
            "client" => EventFormat.Client,
            "federation" => EventFormat.Federation,
            _ => throw MatrixException.BadJson("event_format must be \"client\" or \"federation\"."),
        },
        _ => throw MatrixException.BadJson("event_format must be \"client\" or \"federation\"."),
    };

    private static int? Limit(JsonObject filter, string path)
    {
        var node = Value(filter, "limit");
        if (node is null)
            return null;
        if (node.GetValueKind() != JsonValueKind.Number)
            throw MatrixException.BadJson($"{path}limit must be an integer.");

        // JSON Schema counts 20.0 as an integer too; beyond int's range a limit means "as many as allowed".
        var limit = node.GetValue<double>();
        if (Math.Floor(limit) != limit)
            throw MatrixException.BadJson($"{path}limit must be an integer.");
        if (limit < 0)
            throw MatrixException.BadJson($"{path}limit must not be negative.");
        return limit >= int.MaxValue ? int.MaxValue : (int)limit;
    }

    private static JsonObject? Object(JsonObject parent, string name, string path) => Value(parent, name) switch
    {
        null => null,
        JsonObject obj => obj,
        _ => throw MatrixException.BadJson($"{path}{name} must be an object."),
    };

    private static bool? Bool(JsonObject parent, string name, string path) => Value(parent, name) switch
    {
        null => null,
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
        _ => throw MatrixException.BadJson($"{path}{name} must be a boolean."),
    };

    private static List<string>? StringList(JsonObject parent, string name, string path)
    {
        var node = Value(parent, name);
        if (node is null)
            return null;
        if (node is not JsonArray array)
            throw MatrixException.BadJson($"{path}{name} must be an array of strings.");
        var list = new List<string>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
                throw MatrixException.BadJson($"{path}{name} must be an array of strings.");
            list.Add(value.GetValue<string>());
        }
        return list;
    }

    private static List<string>? IdList(JsonObject parent, string name, string path, char sigil)
    {
        var list = StringList(parent, name, path);
        if (list is not null && list.Any(id => id.Length < 2 || id[0] != sigil))
        {
            var what = sigil == '!' ? "room" : "user";
            throw MatrixException.BadJson($"{path}{name} must hold {what} ids (starting with '{sigil}').");
        }
        return list;
    }

    /// <summary>The field's value, null when it is absent or JSON <c>null</c>.</summary>
    private static JsonNode? Value(JsonObject parent, string name) =>
        parent.TryGetPropertyValue(name, out var node) ? node : null;
}
