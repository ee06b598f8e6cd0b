using System.Globalization;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.ServerKeys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// The notary endpoints (server-server API "Querying Keys Through Another Server"), unauthenticated:
/// <c>GET /_matrix/key/v2/query/{serverName}</c> (and the older <c>/{serverName}/{keyId}</c> form the prose
/// still names) and <c>POST /_matrix/key/v2/query</c>. Each answer is <c>{"server_keys": [...]}</c>, every
/// object signed by its server and by this one.
/// </summary>
internal static class KeyQuery
{
    public static void MapKeyQuery(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/key/v2/query/{serverName}", GetAsync);
        routes.MapGet("/_matrix/key/v2/query/{serverName}/{keyId}", GetAsync);
        routes.MapPost("/_matrix/key/v2/query", PostAsync);
    }

    private static async Task GetAsync(HttpContext http)
    {
        var serverName = http.Route("serverName");
        long? minimum = null;
        if (http.Query("minimum_valid_until_ts") is { } text)
        {
            minimum = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ts)
                ? ts
                : throw MatrixException.InvalidParam("minimum_valid_until_ts must be an integer.");
        }
        await RespondAsync(http, new Dictionary<string, long?> { [serverName] = minimum });
    }

    private static async Task PostAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        if (body["server_keys"] is not JsonObject servers)
            throw MatrixException.BadJson("server_keys must be an object of server names.");
        var criteria = new Dictionary<string, long?>();
        foreach (var (serverName, keys) in servers)
        {
            if (keys is not JsonObject keyCriteria)
                throw MatrixException.BadJson($"server_keys.{serverName} must be an object of key ids.");
            long? minimum = null;
            foreach (var (keyId, criterion) in keyCriteria)
            {
                if (criterion?["minimum_valid_until_ts"] is not { } node)
                    continue;
                if (node is not JsonValue value || !value.TryGetValue<long>(out var ts))
                    throw MatrixException.BadJson($"server_keys.{serverName}.{keyId}.minimum_valid_until_ts must be an integer.");
                minimum = Math.Max(minimum ?? long.MinValue, ts);
            }
            criteria[serverName] = minimum;
        }
        await RespondAsync(http, criteria);
    }

    private static async Task RespondAsync(HttpContext http, Dictionary<string, long?> criteria)
    {
        var results = await http.RequestServices.GetRequiredService<KeyNotary>().QueryAsync(criteria, http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["server_keys"] = results });
    }
}
