using System.Text.Json.Nodes;
using Conduit.Net.Api.Client;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// The end-to-end encryption endpoints other servers call for our users:
/// <c>GET /_matrix/federation/v1/user/devices/{userId}</c>, <c>POST /user/keys/query</c> and
/// <c>POST /user/keys/claim</c>. Every user named must be ours (400 <c>M_INVALID_PARAM</c> otherwise).
/// </summary>
internal static class FederationUserKeys
{
    public static void MapFederationUserKeys(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/federation/v1/user/devices/{userId}", DevicesAsync).RequireServerSignature();
        routes.MapPost("/_matrix/federation/v1/user/keys/query", QueryAsync).RequireServerSignature();
        routes.MapPost("/_matrix/federation/v1/user/keys/claim", ClaimAsync).RequireServerSignature();
    }

    private static Task DevicesAsync(HttpContext http) =>
        http.WriteJsonAsync(Keys(http).DevicesForServer(http.Route("userId")));

    private static async Task QueryAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.KeysQueryRequest);
        var result = Keys(http).QueryForServer(request.Wanted());
        await http.WriteJsonAsync(new JsonObject
        {
            ["device_keys"] = result.DeviceKeys,
            ["master_keys"] = result.MasterKeys,
            ["self_signing_keys"] = result.SelfSigningKeys,
        });
    }

    private static async Task ClaimAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.KeysClaimRequest);
        var result = Keys(http).ClaimForServer(request.Wanted());
        await http.WriteJsonAsync(new JsonObject { ["one_time_keys"] = result.OneTimeKeys });
    }

    private static KeyService Keys(HttpContext http) => http.RequestServices.GetRequiredService<KeyService>();
}
