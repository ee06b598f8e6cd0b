using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Spaces;

/// <summary>A <c>GET /hierarchy</c> request as the endpoint parsed it; null means the parameter was absent.</summary>
public sealed record HierarchyRequest(bool SuggestedOnly, int? Limit, int? MaxDepth, string? From);

/// <summary>
/// The client's <c>GET /_matrix/client/v1/rooms/{roomId}/hierarchy</c>: a depth-first walk of the space
/// tree from the room, each room once (loops end there), listing the rooms the user may see and going
/// into their children up to <c>max_depth</c>. Rooms this server is in come from its own state; any other
/// child is asked of the servers its <c>m.space.child</c> event names through the federation
/// <c>/hierarchy</c>, whose answers are cached for a while as the spec suggests. A page ends after
/// <c>limit</c> rooms; the rest of the walk is kept here under the <c>next_batch</c> token.
/// </summary>
public sealed class SpaceHierarchy(SpaceRooms rooms, FederationClient federation, TimeProvider time, ILogger<SpaceHierarchy> logger)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;
    public const int DefaultMaxDepth = 10;

    private static readonly TimeSpan RemoteAnswerLifetime = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PageLifetime = TimeSpan.FromMinutes(10);

    private readonly LruCache<(string RoomId, bool SuggestedOnly), RemoteAnswer> _remote = new(1_000);
    private readonly LruCache<string, Walk> _pages = new(1_000);

    /// <exception cref="MatrixException">
    /// 403 when the room is unknown here or the user may not see it; 400 <c>M_INVALID_PARAM</c> for an unknown
    /// <c>from</c> token or one whose walk had another <c>suggested_only</c> or <c>max_depth</c>.
    /// </exception>
    public async Task<JsonObject> GetAsync(string userId, string roomId, HierarchyRequest request, CancellationToken cancellationToken)
    {
        if (request.Limit is <= 0)
            throw MatrixException.InvalidParam("limit must be greater than zero.");
        if (request.MaxDepth is < 0)
            throw MatrixException.InvalidParam("max_depth must not be negative.");
        if (rooms.Find(roomId) is not { } root || !rooms.UserMaySee(userId, root))
            throw MatrixException.Forbidden("You are not allowed to view this room.");

        var maxDepth = Math.Min(request.MaxDepth ?? DefaultMaxDepth, DefaultMaxDepth);
        Walk walk;
        if (request.From is { } from)
        {
            if (!_pages.TryGet(from, out walk!) || walk.UserId != userId || walk.RoomId != roomId || time.GetUtcNow() > walk.Expires)
                throw MatrixException.InvalidParam("Unknown pagination token.");
            if (walk.SuggestedOnly != request.SuggestedOnly || (request.MaxDepth is not null && walk.MaxDepth != maxDepth))
                throw MatrixException.InvalidParam("suggested_only and max_depth cannot change on paginated requests.");
            _pages.Remove(from);
        }
        else
        {
            walk = new Walk(userId, roomId, request.SuggestedOnly, maxDepth);
            walk.Pending.Push(new Pending(roomId, [], 0, null));
        }

        var limit = Math.Min(request.Limit ?? DefaultLimit, MaxLimit);
        var page = new JsonArray();
        while (page.Count < limit && walk.Pending.TryPop(out var next))
        {
            if (!walk.Seen.Add(next.RoomId))
                continue;
            var found = await VisitAsync(walk, next, cancellationToken);
            if (found is null)
                continue;
            page.Add((JsonNode)found.Value.Entry);
            if (next.Depth >= walk.MaxDepth)
                continue;
            for (var i = found.Value.Children.Count - 1; i >= 0; i--)
            {
                var child = found.Value.Children[i];
                if (!walk.Seen.Contains(child.RoomId))
                    walk.Pending.Push(child with { Depth = next.Depth + 1 });
            }
        }

        var response = new JsonObject { ["rooms"] = page };
        if (walk.Pending.Count > 0)
        {
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            walk.Expires = time.GetUtcNow() + PageLifetime;
            _pages.Set(token, walk);
            response["next_batch"] = token;
        }
        return response;
    }

    /// <summary>The room's entry and children when the user may see it; null when not, or when nobody could tell.</summary>
    private async Task<(JsonObject Entry, IReadOnlyList<Pending> Children)?> VisitAsync(Walk walk, Pending room, CancellationToken cancellationToken)
    {
        if (rooms.Find(room.RoomId) is { } local)
        {
            if (!rooms.UserMaySee(walk.UserId, local))
                return null;
            var childEvents = rooms.ChildEvents(local, walk.SuggestedOnly);
            var children = childEvents
                .Select(e => SpaceRooms.Child(e.StateKey!, e.Content))
                .OfType<SpaceChild>()
                .Select(c => new Pending(c.RoomId, c.Via, 0, null))
                .ToList();
            return (rooms.Entry(local, childEvents), children);
        }

        // A child another server described is enough unless it is a space, whose own children need its answer.
        if (room.Described is { } described && (string?)described["room_type"] != SpaceRooms.SpaceRoomType)
            return RemoteMaySee(walk.UserId, described) ? (WithoutChildren(described), []) : null;

        if (await AskAsync(room, walk.SuggestedOnly, cancellationToken) is not { } answer || !RemoteMaySee(walk.UserId, answer.Room))
            return null;
        var pending = new List<Pending>();
        foreach (var childEvent in answer.Room["children_state"] as JsonArray ?? [])
        {
            if (childEvent is not JsonObject e || (string?)e["type"] != SpaceRooms.SpaceChildType || (string?)e["state_key"] is not { } childId
                || !RoomId.TryParse(childId, out _) || answer.Inaccessible.Contains(childId))
                continue;
            using var content = JsonDocument.Parse(e["content"]?.ToJsonString() ?? "null");
            if (SpaceRooms.Child(childId, content.RootElement) is { } child && (!walk.SuggestedOnly || child.Suggested))
                pending.Add(new Pending(childId, child.Via, 0, answer.Children.GetValueOrDefault(childId)));
        }
        return ((JsonObject)answer.Room.DeepClone(), pending);
    }

    /// <summary>
    /// The federation <c>/hierarchy</c> answer for a room this server is not in, from the cache or from the
    /// first of its via servers that answers sensibly; null when none does.
    /// </summary>
    private async Task<RemoteAnswer?> AskAsync(Pending room, bool suggestedOnly, CancellationToken cancellationToken)
    {
        var key = (room.RoomId, suggestedOnly);
        if (_remote.TryGet(key, out var cached) && time.GetUtcNow() < cached.Expires)
            return cached;
        var path = $"/_matrix/federation/v1/hierarchy/{Uri.EscapeDataString(room.RoomId)}?suggested_only={(suggestedOnly ? "true" : "false")}";
        foreach (var server in room.Via.Distinct(StringComparer.Ordinal))
        {
            if (!ServerName.TryParse(server, out _))
                continue;
            try
            {
                var json = await federation.GetAsync(server, path, cancellationToken);
                if (json["room"] is not JsonObject summary || (string?)summary["room_id"] != room.RoomId)
                    continue;
                var children = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
                foreach (var child in json["children"] as JsonArray ?? [])
                {
                    if (child is JsonObject c && (string?)c["room_id"] is { } id)
                        children[id] = c;
                }
                var inaccessible = (json["inaccessible_children"] as JsonArray ?? [])
                    .Select(n => n is JsonValue v && v.TryGetValue<string>(out var id) ? id : null)
                    .OfType<string>()
                    .ToHashSet(StringComparer.Ordinal);
                var answer = new RemoteAnswer(summary, children, inaccessible, time.GetUtcNow() + RemoteAnswerLifetime);
                _remote.Set(key, answer);
                return answer;
            }
            catch (FederationException e)
            {
                logger.LogInformation("Space hierarchy of {RoomId} from {Server} failed: {Error}", room.RoomId, server, e.Message);
            }
        }
        return null;
    }

    /// <summary>
    /// Whether the user may see a room this server is not in, from the summary another server gave: it lets
    /// anyone in or look in, or it is restricted to a room the user is joined to here.
    /// </summary>
    private bool RemoteMaySee(string userId, JsonObject summary)
    {
        var joinRule = (string?)summary["join_rule"];
        if (joinRule is JoinRules.Public or JoinRules.Knock or JoinRules.KnockRestricted)
            return true;
        if (summary["world_readable"] is JsonValue worldReadable && worldReadable.TryGetValue<bool>(out var readable) && readable)
            return true;
        return joinRule == JoinRules.Restricted
            && (summary["allowed_room_ids"] as JsonArray ?? [])
                .Any(n => n is JsonValue v && v.TryGetValue<string>(out var allowed) && rooms.IsJoined(userId, allowed));
    }

    /// <summary>A child's summary as another server gave it, as an entry of a room without children of its own to show.</summary>
    private static JsonObject WithoutChildren(JsonObject described)
    {
        var entry = (JsonObject)described.DeepClone();
        entry["children_state"] = new JsonArray();
        return entry;
    }

    /// <param name="Described">The room's summary from its parent's federation answer, when it came from one.</param>
    private sealed record Pending(string RoomId, IReadOnlyList<string> Via, int Depth, JsonObject? Described);

    private sealed record RemoteAnswer(JsonObject Room, IReadOnlyDictionary<string, JsonObject> Children, IReadOnlySet<string> Inaccessible, DateTimeOffset Expires);

    /// <summary>One paginated walk: what is left to visit and what was visited, for the next page.</summary>
    private sealed class Walk(string userId, string roomId, bool suggestedOnly, int maxDepth)
    {
        public string UserId { get; } = userId;

        public string RoomId { get; } = roomId;

        public bool SuggestedOnly { get; } = suggestedOnly;

        public int MaxDepth { get; } = maxDepth;

        public Stack<Pending> Pending { get; } = new();

        public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset Expires { get; set; }
    }
}
