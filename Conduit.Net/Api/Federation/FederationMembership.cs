using Conduit.Net.Api.Http;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// Memberships through this server, behind X-Matrix: <c>GET /make_join/{roomId}/{userId}?ver=</c> and
/// <c>PUT /v2/send_join/{roomId}/{eventId}?omit_members=</c>, <c>GET /make_leave</c> and <c>PUT /v2/send_leave</c>,
/// <c>GET /make_knock?ver=</c> and <c>PUT /send_knock</c>, and <c>PUT /v2/invite/{roomId}/{eventId}</c>.
/// </summary>
internal static class FederationMembership
{
    private const string V1 = "/_matrix/federation/v1";
    private const string V2 = "/_matrix/federation/v2";

    public static void MapFederationMembership(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(V1 + "/make_join/{roomId}/{userId}", MakeJoinAsync).RequireServerSignature();
        routes.MapPut(V2 + "/send_join/{roomId}/{eventId}", SendJoinAsync).RequireServerSignature();
        routes.MapGet(V1 + "/make_leave/{roomId}/{userId}", MakeLeaveAsync).RequireServerSignature();
        routes.MapPut(V2 + "/send_leave/{roomId}/{eventId}", SendLeaveAsync).RequireServerSignature();
        routes.MapGet(V1 + "/make_knock/{roomId}/{userId}", MakeKnockAsync).RequireServerSignature();
        routes.MapPut(V1 + "/send_knock/{roomId}/{eventId}", SendKnockAsync).RequireServerSignature();
        routes.MapPut(V2 + "/invite/{roomId}/{eventId}", InviteAsync).RequireServerSignature();
    }

    private static Task MakeJoinAsync(HttpContext http)
    {
        // A server that names no version supports only version 1, the spec's default for this parameter.
        var versions = Versions(http);
        if (versions.Count == 0)
            versions.Add("1");
        return MakeAsync(http, Membership.Join, versions);
    }

    private static Task MakeLeaveAsync(HttpContext http) => MakeAsync(http, Membership.Leave, null);

    // Knocking came with room version 7, so the parameter is required and there is no default.
    private static Task MakeKnockAsync(HttpContext http) => MakeAsync(http, Membership.Knock, Versions(http));

    private static async Task MakeAsync(HttpContext http, string membership, List<string>? versions) =>
        await http.WriteJsonAsync(await Service(http).MakeAsync(membership, http.OriginServer(), http.Route("roomId"), http.Route("userId"), versions, http.RequestAborted));

    private static async Task SendJoinAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var omitMembers = http.Query("omit_members") switch
        {
            null or "false" => false,
            "true" => true,
            _ => throw MatrixException.InvalidParam("omit_members must be true or false."),
        };
        await http.WriteJsonAsync(await Service(http).SendJoinAsync(http.OriginServer(), http.Route("roomId"), http.Route("eventId"), body, omitMembers, http.RequestAborted));
    }

    private static async Task SendLeaveAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await Service(http).SendLeaveAsync(http.OriginServer(), http.Route("roomId"), http.Route("eventId"), body, http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task SendKnockAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await http.WriteJsonAsync(await Service(http).SendKnockAsync(http.OriginServer(), http.Route("roomId"), http.Route("eventId"), body, http.RequestAborted));
    }

    private static async Task InviteAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await http.WriteJsonAsync(await Service(http).InviteAsync(http.OriginServer(), http.Route("roomId"), http.Route("eventId"), body, http.RequestAborted));
    }

    private static List<string> Versions(HttpContext http) => http.Request.Query["ver"].OfType<string>().ToList();

    private static FederationMemberships Service(HttpContext http) => http.RequestServices.GetRequiredService<FederationMemberships>();
}
