using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Rooms;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// Room aliases of any server, for <c>GET /directory/room/{roomAlias}</c> and joins by alias: a local
/// alias from <see cref="RoomAliases"/>, another server's through its <c>/query/directory</c>, asked on
/// every resolution (nothing would tell a cache that the alias moved).
/// </summary>
public sealed class AliasResolver(RoomAliases aliases, FederationClient federation, ServerConfig config)
{
    /// <summary>
    /// The room an alias names and servers to join it through, the alias's own server first. A remote
    /// server's 404 is <c>M_NOT_FOUND</c> here too; one that fails or cannot be reached is 502.
    /// </summary>
    public async Task<(string RoomId, IReadOnlyList<string> Servers)> ResolveAsync(string alias, CancellationToken cancellationToken)
    {
        if (!RoomAlias.TryParse(alias, out var parsed))
            throw MatrixException.InvalidParam($"\"{alias}\" is not a valid room alias.");
        var server = parsed.Server.Value;
        if (server == config.ServerName)
            return aliases.Resolve(alias);

        JsonObject answer;
        try
        {
            answer = await federation.GetAsync(server, $"/_matrix/federation/v1/query/directory?room_alias={Uri.EscapeDataString(parsed.Value)}", cancellationToken);
        }
        catch (FederationException e)
        {
            throw RemoteErrors.ForClient(e);
        }
        if (answer["room_id"] is not JsonValue roomValue || !roomValue.TryGetValue<string>(out var roomId) || !RoomId.TryParse(roomId, out _))
            throw new MatrixException(ErrorCode.RemoteUnavailable, $"{server} answered the alias query without a room id.");
        var servers = (answer["servers"] as JsonArray ?? [])
            .Select(s => s is JsonValue v && v.TryGetValue<string>(out var name) ? name : null)
            .OfType<string>()
            .Prepend(server)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return (roomId, servers);
    }
}
