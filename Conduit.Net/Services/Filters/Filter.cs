using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Push;

namespace Conduit.Net.Services.Filters;

/// <summary>How events are shaped in responses (<c>event_format</c>).</summary>
public enum EventFormat
{
    /// <summary>The client format: <c>room_id</c> where it belongs, <c>unsigned</c>, no hashes or signatures.</summary>
    Client,

    /// <summary>The raw event as it travels over federation.</summary>
    Federation,
}

/// <summary>
/// A parsed filter (the spec's <c>Filter</c>, as uploaded to <c>/user/{userId}/filter</c> or given
/// inline to <c>/sync</c>). Absent parts are "no restriction": <see cref="Everything"/> is the
/// filter of a request without one.
/// </summary>
public sealed record Filter
{
    public static Filter Everything { get; } = new();

    /// <summary>Dot-separated paths of the event fields to keep (<see cref="ProjectFields"/>); null keeps every field.</summary>
    public IReadOnlyList<string>? EventFields { get; init; }

    public EventFormat EventFormat { get; init; } = EventFormat.Client;

    /// <summary>Which <c>m.presence</c> events go into <c>presence</c>; the sender is the user whose presence it is.</summary>
    public EventFilter Presence { get; init; } = EventFilter.Everything;

    /// <summary>Which global account data events go into <c>account_data</c>; they have no sender.</summary>
    public EventFilter AccountData { get; init; } = EventFilter.Everything;

    public RoomFilter Room { get; init; } = RoomFilter.Everything;

    /// <summary>
    /// The event reduced to the fields of <see cref="EventFields"/> (the whole event when there is no
    /// such list). A path that does not exist in the event is skipped; an object on the path keeps
    /// only the fields asked for below it.
    /// </summary>
    public JsonObject ProjectFields(JsonObject ev)
    {
        if (EventFields is null)
            return ev;
        var projected = new JsonObject();
        foreach (var path in EventFields)
        {
            if (PropertyPath.TryResolve(ev, path, out _))
                CopyPath(ev, projected, PropertyPath.Split(path), 0);
        }
        return projected;
    }

    private static void CopyPath(JsonObject source, JsonObject target, IReadOnlyList<string> names, int index)
    {
        if (!source.TryGetPropertyValue(names[index], out var value))
            return;
        if (index == names.Count - 1)
        {
            target[names[index]] = value?.DeepClone();
            return;
        }
        if (value is not JsonObject child)
            return;
        if (target[names[index]] is not JsonObject targetChild)
        {
            targetChild = [];
            target[names[index]] = targetChild;
        }
        CopyPath(child, targetChild, names, index + 1);
    }
}

/// <summary>The spec's <c>RoomFilter</c>: which rooms, and a filter for each part of a room's data.</summary>
public sealed record RoomFilter
{
    public static RoomFilter Everything { get; } = new();

    /// <summary>Rooms to include; null includes every room.</summary>
    public IReadOnlyList<string>? Rooms { get; init; }

    /// <summary>Rooms to exclude, even when <see cref="Rooms"/> lists them.</summary>
    public IReadOnlyList<string>? NotRooms { get; init; }

    /// <summary>Whether <c>/sync</c> reports rooms the user has left (<c>rooms.leave</c>).</summary>
    public bool IncludeLeave { get; init; }

    public RoomEventFilter Timeline { get; init; } = RoomEventFilter.Everything;

    public RoomEventFilter State { get; init; } = RoomEventFilter.Everything;

    public RoomEventFilter Ephemeral { get; init; } = RoomEventFilter.Everything;

    public RoomEventFilter AccountData { get; init; } = RoomEventFilter.Everything;

    /// <summary>Whether the room passes <c>rooms</c>/<c>not_rooms</c>, which apply before the per-part filters.</summary>
    public bool IncludesRoom(string roomId) => FilterLists.IncludesRoom(Rooms, NotRooms, roomId);
}

/// <summary>The spec's <c>EventFilter</c>: event types and senders, and a limit.</summary>
public sealed record EventFilter
{
    public static EventFilter Everything { get; } = new();

    /// <summary>The most events wanted; null leaves the default to the endpoint.</summary>
    public int? Limit { get; init; }

    /// <summary>Types to include, with <c>*</c> matching any run of characters; null includes every type.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Types to exclude, even when <see cref="Types"/> lists them.</summary>
    public IReadOnlyList<string>? NotTypes { get; init; }

    public IReadOnlyList<string>? Senders { get; init; }

    public IReadOnlyList<string>? NotSenders { get; init; }

    /// <summary>
    /// Whether an event of <paramref name="type"/> from <paramref name="sender"/> passes. An event
    /// without a sender (account data) is judged on its type alone.
    /// </summary>
    public bool Matches(string type, string? sender) =>
        FilterLists.MatchesTypes(Types, NotTypes, type) && FilterLists.MatchesSenders(Senders, NotSenders, sender);

    /// <summary><see cref="Limit"/> or <paramref name="defaultLimit"/>, capped at <paramref name="maxLimit"/>.</summary>
    public int LimitOr(int defaultLimit, int maxLimit) => Math.Min(Limit ?? defaultLimit, maxLimit);
}

/// <summary>
/// The spec's <c>RoomEventFilter</c>: an <see cref="EventFilter"/> plus rooms, <c>contains_url</c>
/// and the lazy-loading and thread-notification switches. <see cref="Matches(string, string, string?, JsonElement)"/>
/// is the one answer to "does this event pass".
/// </summary>
public sealed record RoomEventFilter
{
    public static RoomEventFilter Everything { get; } = new();

    public int? Limit { get; init; }

    public IReadOnlyList<string>? Types { get; init; }

    public IReadOnlyList<string>? NotTypes { get; init; }

    public IReadOnlyList<string>? Senders { get; init; }

    public IReadOnlyList<string>? NotSenders { get; init; }

    public IReadOnlyList<string>? Rooms { get; init; }

    public IReadOnlyList<string>? NotRooms { get; init; }

    /// <summary>True keeps only events whose content has a string <c>url</c>, false drops them, null ignores <c>url</c>.</summary>
    public bool? ContainsUrl { get; init; }

    public bool LazyLoadMembers { get; init; }

    /// <summary>Only meaningful with <see cref="LazyLoadMembers"/>: send membership events even if the client already has them.</summary>
    public bool IncludeRedundantMembers { get; init; }

    public bool UnreadThreadNotifications { get; init; }

    /// <summary>Whether an event passes: room, type, sender and <c>contains_url</c> all checked.</summary>
    public bool Matches(string roomId, string type, string? sender, JsonElement content) =>
        Matches(roomId, type, sender, HasUrl(content));

    /// <summary>As <see cref="Matches(string, string, string?, JsonElement)"/> for a content already known to have (or lack) a string <c>url</c>.</summary>
    public bool Matches(string roomId, string type, string? sender, bool hasUrl) =>
        FilterLists.IncludesRoom(Rooms, NotRooms, roomId)
        && FilterLists.MatchesTypes(Types, NotTypes, type)
        && FilterLists.MatchesSenders(Senders, NotSenders, sender)
        && (ContainsUrl is not { } wanted || wanted == hasUrl);

    /// <summary>Whether events of this room can pass at all (its <c>rooms</c>/<c>not_rooms</c>).</summary>
    public bool IncludesRoom(string roomId) => FilterLists.IncludesRoom(Rooms, NotRooms, roomId);

    /// <summary><see cref="Limit"/> or <paramref name="defaultLimit"/>, capped at <paramref name="maxLimit"/>.</summary>
    public int LimitOr(int defaultLimit, int maxLimit) => Math.Min(Limit ?? defaultLimit, maxLimit);

    /// <summary>
    /// Whether a content counts as "containing a URL": a <c>url</c> property holding a string, as
    /// media messages carry it. Other values of <c>url</c> do not point anywhere.
    /// </summary>
    public static bool HasUrl(JsonElement content) =>
        content.ValueKind == JsonValueKind.Object
        && content.TryGetProperty("url", out var url)
        && url.ValueKind == JsonValueKind.String;
}

/// <summary>The include/exclude list rules shared by every filter kind.</summary>
internal static class FilterLists
{
    public static bool IncludesRoom(IReadOnlyList<string>? rooms, IReadOnlyList<string>? notRooms, string roomId) =>
        (notRooms is null || !Contains(notRooms, roomId)) && (rooms is null || Contains(rooms, roomId));

    public static bool MatchesTypes(IReadOnlyList<string>? types, IReadOnlyList<string>? notTypes, string type)
    {
        if (notTypes is not null && notTypes.Any(pattern => Glob(pattern, type)))
            return false;
        return types is null || types.Any(pattern => Glob(pattern, type));
    }

    public static bool MatchesSenders(IReadOnlyList<string>? senders, IReadOnlyList<string>? notSenders, string? sender)
    {
        if (sender is null)
            return true;
        if (notSenders is not null && Contains(notSenders, sender))
            return false;
        return senders is null || Contains(senders, sender);
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (var item in list)
        {
            if (item == value)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether <paramref name="text"/> matches <paramref name="pattern"/>, where <c>*</c> stands for
    /// any run of characters (empty included) and every other character for itself.
    /// </summary>
    /// <remarks>
    /// The greedy walk with one backtrack point: on a mismatch after a star, the star takes one
    /// more character. Linear in practice and never exponential, unlike a naive recursion.
    /// </remarks>
    internal static bool Glob(string pattern, string text)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
            return pattern == text;
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
