using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// A <c>RoomEventFilter</c> (the filtering section of the client-server API): which events of a
/// room timeline to return. Type patterns may use <c>*</c> as a wildcard; the <c>not_</c> lists win
/// over the positive ones.
/// </summary>
public sealed record RoomEventFilter
{
    public static readonly RoomEventFilter None = new();

    public int? Limit { get; init; }

    public IReadOnlyList<string>? Types { get; init; }

    public IReadOnlyList<string> NotTypes { get; init; } = [];

    public IReadOnlyList<string>? Senders { get; init; }

    public IReadOnlyList<string> NotSenders { get; init; } = [];

    public IReadOnlyList<string>? Rooms { get; init; }

    public IReadOnlyList<string> NotRooms { get; init; } = [];

    /// <summary>True: only events whose content has a <c>url</c>; false: only events without one.</summary>
    public bool? ContainsUrl { get; init; }

    public bool LazyLoadMembers { get; init; }

    public bool IncludeRedundantMembers { get; init; }

    /// <summary>Reads a filter object: 400 <c>M_BAD_JSON</c> when a field has the wrong type.</summary>
    public static RoomEventFilter Parse(JsonObject json) => new()
    {
        Limit = json["limit"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n >= 0 => n,
            _ => throw MatrixException.BadJson("filter limit must be a non-negative integer."),
        },
        Types = Strings(json, "types"),
        NotTypes = Strings(json, "not_types") ?? [],
        Senders = Strings(json, "senders"),
        NotSenders = Strings(json, "not_senders") ?? [],
        Rooms = Strings(json, "rooms"),
        NotRooms = Strings(json, "not_rooms") ?? [],
        ContainsUrl = Bool(json, "contains_url"),
        LazyLoadMembers = Bool(json, "lazy_load_members") ?? false,
        IncludeRedundantMembers = Bool(json, "include_redundant_members") ?? false,
    };

    /// <summary>Whether the filter lets the room through at all.</summary>
    public bool AllowsRoom(string roomId) =>
        !NotRooms.Contains(roomId) && (Rooms is null || Rooms.Contains(roomId));

    public bool Matches(StoredEvent stored)
    {
        if (NotTypes.Any(p => TypeMatches(p, stored.Type)) || (Types is not null && !Types.Any(p => TypeMatches(p, stored.Type))))
            return false;
        if (NotSenders.Contains(stored.Sender) || (Senders is not null && !Senders.Contains(stored.Sender)))
            return false;
        if (ContainsUrl is { } wantsUrl && stored.Content.TryGetProperty("url", out _) != wantsUrl)
            return false;
        return true;
    }

    /// <summary>An event type pattern: <c>*</c> matches any run of characters.</summary>
    public static bool TypeMatches(string pattern, string type)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
            return pattern == type;
        var parts = pattern.Split('*');
        if (!type.StartsWith(parts[0], StringComparison.Ordinal))
            return false;
        var index = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = type.IndexOf(parts[i], index, StringComparison.Ordinal);
            if (found < 0)
                return false;
            index = found + parts[i].Length;
        }
        return type.Length - index >= parts[^1].Length && type.EndsWith(parts[^1], StringComparison.Ordinal);
    }

    private static List<string>? Strings(JsonObject json, string name)
    {
        if (json[name] is null)
            return null;
        if (json[name] is not JsonArray array)
            throw MatrixException.BadJson($"filter {name} must be an array of strings.");
        return [.. array.Select(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw MatrixException.BadJson($"filter {name} must be an array of strings."))];
    }

    private static bool? Bool(JsonObject json, string name) =>
        json[name] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw MatrixException.BadJson($"filter {name} must be true or false."),
        };
}
