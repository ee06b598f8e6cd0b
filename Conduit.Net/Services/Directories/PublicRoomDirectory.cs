using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Directories;

/// <summary>A <c>/publicRooms</c> request, as the endpoint parsed it.</summary>
/// <param name="Limit">Rooms per page; null or 0 ask for no limit (as Synapse reads 0), which <see cref="PublicRoomDirectory.MaxLimit"/> caps.</param>
/// <param name="RoomTypes">The filter's <c>room_types</c>, <c>null</c> entries standing for rooms without a type; null or empty: any.</param>
public sealed record PublicRoomsQuery(
    int? Limit = null,
    string? Since = null,
    string? Server = null,
    string? SearchTerm = null,
    IReadOnlyList<string?>? RoomTypes = null,
    bool IncludeAllNetworks = false,
    string? ThirdPartyInstanceId = null);

/// <summary>One entry of a <c>/publicRooms</c> chunk.</summary>
public sealed record PublicRoom(RoomSummary Summary, int JoinedMembers);

/// <summary>One page of the published room directory.</summary>
/// <param name="NextBatch">Token of the page after this one; null on the last page.</param>
/// <param name="PrevBatch">Token of the page before this one; null on the first page.</param>
/// <param name="TotalRoomCountEstimate">Rooms the listing holds (after the filter).</param>
public sealed record PublicRoomsPage(IReadOnlyList<PublicRoom> Chunk, string? NextBatch, string? PrevBatch, int TotalRoomCountEstimate)
{
    /// <summary>The page as <c>/publicRooms</c> answers it, in the client and the federation API alike.</summary>
    public JsonObject ToJson()
    {
        var chunk = new JsonArray([.. Chunk.Select(room => (JsonNode)room.Summary.ToChunkEntry(room.JoinedMembers))]);
        var response = new JsonObject { ["chunk"] = chunk, ["total_room_count_estimate"] = TotalRoomCountEstimate };
        AddIfSet(response, "next_batch", NextBatch);
        AddIfSet(response, "prev_batch", PrevBatch);
        return response;
    }

    private static void AddIfSet(JsonObject target, string name, string? value)
    {
        if (value is not null)
            target[name] = value;
    }
}

/// <summary>
/// The published room directory (spec "Listing rooms", <c>list_public_rooms.yaml</c>): which rooms
/// are published (<c>/directory/list/room/{roomId}</c>, stored by <see cref="RoomDirectory"/>) and
/// the paginated, filtered listing of <c>/publicRooms</c>.
/// </summary>
/// <remarks>
/// <para>
/// A published room is listed while people can get in or look in: join rule <c>public</c>,
/// <c>knock</c> or <c>knock_restricted</c>, or <c>world_readable</c> history (as Synapse lists them).
/// Publishing an invite-only room is allowed, but it stays out of the listing until its rules change.
/// </para>
/// <para>
/// Order: most joined members first, then room id (the ordering the spec recommends). Pages are
/// cut from an ordering fixed when the first page is served and kept in memory: every room of that
/// ordering is served exactly once across the pages, even if member counts change meanwhile; rooms
/// unpublished since are skipped, rooms published since show up in the next listing. A token
/// carries the member count and room id at its boundary too, so that once its ordering is gone
/// (evicted, or the server restarted) it continues from the same place in the current ordering.
/// </para>
/// <para>
/// Another server's directory (<c>server</c>) is asked for over federation on every request and
/// passed on page by page: its tokens are its own. No application service publishes rooms under a third-party network yet, so a
/// <c>third_party_instance_id</c> lists nothing and <c>include_all_networks</c> lists the same
/// rooms as the default.
/// </para>
/// </remarks>
public sealed class PublicRoomDirectory
{
    public const string Public = "public";
    public const string Private = "private";

    /// <summary>Most rooms on one page, whatever the client asks.</summary>
    public const int MaxLimit = 500;

    private const string CanonicalAliasType = "m.room.canonical_alias";

    private readonly RoomEvents _events;
    private readonly RoomDirectory _directory;
    private readonly RoomSummaries _summaries;
    private readonly string _serverName;

    /// <summary>Orderings that issued tokens, bounded by the room ids they hold in all.</summary>
    private readonly LruCache<string, Ordering> _orderings = new(100_000, o => o.Keys.Length);

    private readonly FederationClient _federation;

    public PublicRoomDirectory(RoomEvents events, RoomDirectory directory, RoomSummaries summaries, FederationClient federation, ServerConfig config)
    {
        _events = events;
        _directory = directory;
        _summaries = summaries;
        _federation = federation;
        _serverName = config.ServerName;
    }

    /// <summary><c>GET /directory/list/room/{roomId}</c>: <c>public</c> or <c>private</c>; 404 for a room this server does not know.</summary>
    public string GetVisibility(string roomId)
    {
        var room = _events.Find(roomId) ?? throw RoomNotFound();
        return _directory.IsPublished(room.RoomId) ? Public : Private;
    }

    /// <summary>
    /// <c>PUT /directory/list/room/{roomId}</c>: publishes or unpublishes the room. Allowed to server
    /// admins and to members who may set the room's canonical alias (its published address, so the
    /// same people decide how the room is advertised; Synapse asks the same). 400
    /// <c>M_INVALID_PARAM</c> for a visibility other than <c>public</c> or <c>private</c>, 404 for an
    /// unknown room, 403 without the power.
    /// </summary>
    public async Task SetVisibilityAsync(string userId, bool isAdmin, string roomId, string visibility)
    {
        if (visibility is not (Public or Private))
            throw MatrixException.InvalidParam("visibility must be \"public\" or \"private\".");
        var room = _events.Find(roomId) ?? throw RoomNotFound();
        if (!isAdmin)
        {
            var state = _events.Lookup(room);
            if (Membership.Of(state, userId) != Membership.Join || !PowerLevels.Of(state, room.Version).MaySend(userId, CanonicalAliasType, isState: true))
                throw MatrixException.Forbidden("Only server admins and room members with the power to set its canonical alias may change its visibility in the room directory.");
        }
        using var write = new RoomWrite();
        _directory.SetPublished(room.RoomId, visibility == Public, write);
        await write.CommitAsync(_events.Store);
    }

    /// <summary>
    /// <c>GET/POST /publicRooms</c> of the client API: one page of this server's listing, or of the
    /// server <see cref="PublicRoomsQuery.Server"/> names (its failure is 502, its 4xx passed on).
    /// </summary>
    public async Task<JsonObject> ListAsync(PublicRoomsQuery query, CancellationToken cancellationToken)
    {
        if (query.Server is not { } server || server == _serverName)
            return List(query).ToJson();
        if (!ServerName.TryParse(server, out _))
            throw MatrixException.InvalidParam($"\"{server}\" is not a server name.");
        JsonObject answer;
        try
        {
            answer = query.SearchTerm is null && query.RoomTypes is null
                ? await _federation.GetAsync(server, RemoteQueryString(query), cancellationToken)
                : await _federation.PostAsync(server, RemotePath, RemoteBody(query), cancellationToken);
        }
        catch (FederationException e)
        {
            throw RemoteErrors.ForClient(e);
        }
        return RemotePage(server, answer);
    }

    /// <summary>One page of this server's listing: what the client API shows for it and what the federation API serves.</summary>
    public PublicRoomsPage List(PublicRoomsQuery query)
    {
        if (query.IncludeAllNetworks && query.ThirdPartyInstanceId is not null)
            throw MatrixException.InvalidParam("third_party_instance_id can only be used when include_all_networks is false.");
        if (query.Limit < 0)
            throw MatrixException.InvalidParam("limit must not be negative.");
        var limit = query.Limit is null or 0 ? MaxLimit : Math.Min(query.Limit.Value, MaxLimit);
        var token = query.Since is null ? null : PageToken.Parse(query.Since)
            ?? throw MatrixException.InvalidParam("since is not a pagination token of this server's room directory.");
        if (query.ThirdPartyInstanceId is not null)
            return new PublicRoomsPage([], null, null, 0);

        var filter = new Filter(query.SearchTerm, query.RoomTypes);
        Ordering ordering;
        Func<int, PublicRoom?> roomAt;
        var index = 0;
        if (token is not null && _orderings.TryGet(token.OrderingId, out var kept) && kept.Signature == filter.Signature && token.Index <= kept.Keys.Length)
        {
            ordering = kept;
            roomAt = i => _directory.IsPublished(kept.Keys[i].RoomId) ? Resolve(kept.Keys[i].RoomId, filter) : null;
            index = token.Index;
        }
        else
        {
            var rooms = CurrentRooms(filter);
            ordering = new Ordering(Convert.ToHexString(RandomNumberGenerator.GetBytes(8)), filter.Signature, [.. rooms.Select(r => new Key(r.JoinedMembers, r.Summary.RoomId))]);
            roomAt = i => rooms[i];
            if (token is not null)
                index = ordering.Locate(token);
        }

        var forward = token?.Forward ?? true;
        var count = ordering.Keys.Length;
        var chunk = new List<PublicRoom>();
        int start, end;
        if (forward)
        {
            end = index;
            for (; end < count && chunk.Count < limit; end++)
            {
                if (roomAt(end) is { } room)
                    chunk.Add(room);
            }
            start = index;
        }
        else
        {
            start = index;
            for (; start > 0 && chunk.Count < limit; start--)
            {
                if (roomAt(start - 1) is { } room)
                    chunk.Add(room);
            }
            chunk.Reverse();
            end = index;
        }
        return new PublicRoomsPage(
            chunk,
            end < count ? Issue(ordering, forward: true, end) : null,
            start > 0 ? Issue(ordering, forward: false, start) : null,
            count);
    }

    private const string RemotePath = "/_matrix/federation/v1/publicRooms";

    private static string RemoteQueryString(PublicRoomsQuery query)
    {
        var parameters = new List<string>();
        if (query.Limit is { } limit)
            parameters.Add($"limit={limit.ToString(CultureInfo.InvariantCulture)}");
        if (query.Since is { } since)
            parameters.Add($"since={Uri.EscapeDataString(since)}");
        if (query.IncludeAllNetworks)
            parameters.Add("include_all_networks=true");
        if (query.ThirdPartyInstanceId is { } instance)
            parameters.Add($"third_party_instance_id={Uri.EscapeDataString(instance)}");
        return parameters.Count == 0 ? RemotePath : $"{RemotePath}?{string.Join('&', parameters)}";
    }

    private static JsonObject RemoteBody(PublicRoomsQuery query)
    {
        var filter = new JsonObject();
        if (query.SearchTerm is { } term)
            filter["generic_search_term"] = term;
        if (query.RoomTypes is { } types)
            filter["room_types"] = new JsonArray([.. types.Select(t => (JsonNode?)t)]);
        var body = new JsonObject { ["filter"] = filter, ["include_all_networks"] = query.IncludeAllNetworks };
        if (query.Limit is { } limit)
            body["limit"] = limit;
        if (query.Since is { } since)
            body["since"] = since;
        if (query.ThirdPartyInstanceId is { } instance)
            body["third_party_instance_id"] = instance;
        return body;
    }

    /// <summary>The parts of another server's answer the spec defines, checked for their types; 502 without a <c>chunk</c> list.</summary>
    private static JsonObject RemotePage(string server, JsonObject answer)
    {
        if (answer["chunk"] is not JsonArray chunk)
            throw new MatrixException(ErrorCode.RemoteUnavailable, $"{server} answered /publicRooms without a chunk.");
        var page = new JsonObject { ["chunk"] = new JsonArray([.. chunk.OfType<JsonObject>().Where(r => r["room_id"] is JsonValue).Select(r => r.DeepClone())]) };
        foreach (var name in (string[])["next_batch", "prev_batch"])
        {
            if (answer[name] is JsonValue token && token.TryGetValue(out string? text))
                page[name] = text;
        }
        if (answer["total_room_count_estimate"] is JsonValue estimate && estimate.TryGetValue(out int count))
            page["total_room_count_estimate"] = count;
        return page;
    }

    private static MatrixException RoomNotFound() => MatrixException.NotFound("Room not found.");

    /// <summary>Every published room that is listed and matches, in the listing's order.</summary>
    private List<PublicRoom> CurrentRooms(Filter filter)
    {
        var rooms = new List<PublicRoom>();
        foreach (var roomId in _directory.Published())
        {
            if (Resolve(roomId, filter) is { } room)
                rooms.Add(room);
        }
        rooms.Sort((a, b) => Key.Compare(new Key(a.JoinedMembers, a.Summary.RoomId), new Key(b.JoinedMembers, b.Summary.RoomId)));
        return rooms;
    }

    /// <summary>The room as the listing shows it now, or null when it is not to be listed (or not matched).</summary>
    private PublicRoom? Resolve(string roomId, Filter filter)
    {
        if (_summaries.Get(roomId) is not { } summary || !IsListed(summary) || !filter.Matches(summary))
            return null;
        return new PublicRoom(summary, _summaries.JoinedMembers(summary));
    }

    private static bool IsListed(RoomSummary summary) =>
        summary.WorldReadable || summary.JoinRule is JoinRules.Public or JoinRules.Knock or JoinRules.KnockRestricted;

    private string Issue(Ordering ordering, bool forward, int index)
    {
        _orderings.Set(ordering.Id, ordering);
        var keys = ordering.Keys;
        var boundary = forward
            ? (index > 0 ? keys[index - 1] : (Key?)null)
            : (index < keys.Length ? keys[index] : null);
        return new PageToken(forward, ordering.Id, index, boundary).Encode();
    }

    /// <summary>A room's place in an ordering: more joined members first, then room id.</summary>
    private readonly record struct Key(int JoinedMembers, string RoomId)
    {
        public static int Compare(Key a, Key b)
        {
            var byMembers = b.JoinedMembers.CompareTo(a.JoinedMembers);
            return byMembers != 0 ? byMembers : string.CompareOrdinal(a.RoomId, b.RoomId);
        }
    }

    /// <summary>The rooms of one listing in order, as they were when its first page was served.</summary>
    /// <param name="Signature">The filter it was built with; a token used with another filter falls back to its boundary.</param>
    private sealed record Ordering(string Id, string Signature, Key[] Keys)
    {
        /// <summary>Where a token of another ordering continues in this one, by its boundary key.</summary>
        public int Locate(PageToken token)
        {
            if (token.Boundary is not { } boundary)
                return token.Forward ? 0 : Keys.Length;
            var index = 0;
            while (index < Keys.Length && (token.Forward ? Key.Compare(Keys[index], boundary) <= 0 : Key.Compare(Keys[index], boundary) < 0))
                index++;
            return index;
        }
    }

    /// <summary>
    /// A pagination token: the page before (<see cref="Forward"/> false) or after an index of an
    /// ordering, and the key at that boundary: the last room before it (forward) or the first room
    /// after it (backward). Opaque to clients: URL-safe base64 of
    /// <c>n|p ordering-id . index . members . room-id</c>.
    /// </summary>
    private sealed record PageToken(bool Forward, string OrderingId, int Index, Key? Boundary)
    {
        public string Encode()
        {
            var boundary = Boundary is { } key ? $"{key.JoinedMembers.ToString(CultureInfo.InvariantCulture)}.{key.RoomId}" : ".";
            var text = $"{(Forward ? 'n' : 'p')}{OrderingId}.{Index.ToString(CultureInfo.InvariantCulture)}.{boundary}";
            return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
        }

        public static PageToken? Parse(string token)
        {
            string text;
            try
            {
                text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            }
            catch (FormatException)
            {
                return null;
            }
            var parts = text.Split('.', 4);
            if (parts.Length != 4 || parts[0].Length < 2 || parts[0][0] is not ('n' or 'p')
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                return null;
            Key? boundary = null;
            if (parts[2].Length > 0)
            {
                if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var members) || parts[3].Length == 0)
                    return null;
                boundary = new Key(members, parts[3]);
            }
            return new PageToken(parts[0][0] == 'n', parts[0][1..], index, boundary);
        }
    }

    /// <summary>
    /// <c>filter.generic_search_term</c> (every whitespace-separated word must occur, case-insensitively,
    /// in the name, topic, canonical alias or an alternative alias) and <c>filter.room_types</c>.
    /// </summary>
    private sealed class Filter
    {
        private readonly string[] _words;
        private readonly HashSet<string>? _types;
        private readonly bool _untyped;

        public Filter(string? searchTerm, IReadOnlyList<string?>? roomTypes)
        {
            _words = searchTerm?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (roomTypes is { Count: > 0 })
            {
                _types = new HashSet<string>(roomTypes.OfType<string>(), StringComparer.Ordinal);
                _untyped = roomTypes.Any(t => t is null);
            }
            var types = _types is null ? "*" : string.Join('\u0001', _types.Order(StringComparer.Ordinal)) + (_untyped ? "\u0002" : "");
            Signature = $"{string.Join(' ', _words).ToUpperInvariant()}\u0000{types}";
        }

        /// <summary>Equal for filters that select the same rooms.</summary>
        public string Signature { get; }

        public bool Matches(RoomSummary summary)
        {
            if (_types is not null && !(summary.RoomType is null ? _untyped : _types.Contains(summary.RoomType)))
                return false;
            foreach (var word in _words)
            {
                if (!Contains(summary.Name, word) && !Contains(summary.Topic, word) && !Contains(summary.CanonicalAlias, word)
                    && !summary.AltAliases.Any(alias => Contains(alias, word)))
                    return false;
            }
            return true;
        }

        private static bool Contains(string? text, string word) => text is not null && text.Contains(word, StringComparison.OrdinalIgnoreCase);
    }
}
