using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// Joining a room through this server, behind X-Matrix: <c>GET /make_join/{roomId}/{userId}?ver=</c> and
/// <c>PUT /v2/send_join/{roomId}/{eventId}?omit_members=</c>.
/// </summary>
internal static class FederationMembership
{
    public static void MapFederationMembership(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/federation/v1/make_join/{roomId}/{userId}", MakeJoinAsync).RequireServerSignature();
        routes.MapPut("/_matrix/federation/v2/send_join/{roomId}/{eventId}", SendJoinAsync).RequireServerSignature();
    }

    private static async Task MakeJoinAsync(HttpContext http)
    {
        // A server that names no version supports only version 1, the spec's default for this parameter.
        var versions = http.Request.Query["ver"].OfType<string>().ToList();
        if (versions.Count == 0)
            versions.Add("1");
        var rooms = http.RequestServices.GetRequiredService<FederationRooms>();
        await http.WriteJsonAsync(await rooms.MakeJoinAsync(http.OriginServer(), http.Route("roomId"), http.Route("userId"), versions, http.RequestAborted));
    }

    private static async Task SendJoinAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var omitMembers = http.Query("omit_members") switch
        {
            null or "false" => false,
            "true" => true,
            _ => throw MatrixException.InvalidParam("omit_members must be true or false."),
        };
        var rooms = http.RequestServices.GetRequiredService<FederationRooms>();
        await http.WriteJsonAsync(await rooms.SendJoinAsync(http.OriginServer(), http.Route("roomId"), http.Route("eventId"), body, omitMembers, http.RequestAborted));
    }
}
