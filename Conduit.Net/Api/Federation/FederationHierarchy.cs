using Conduit.Net.Api.Client;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Spaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// <c>GET /_matrix/federation/v1/hierarchy/{roomId}?suggested_only=</c>, behind X-Matrix: a space and its
/// children as the requesting server may see them, unpaginated.
/// </summary>
internal static class FederationHierarchy
{
    public static void MapFederationHierarchy(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/federation/v1/hierarchy/{roomId}", HierarchyAsync).RequireServerSignature();

    private static Task HierarchyAsync(HttpContext http)
    {
        var rooms = http.RequestServices.GetRequiredService<SpaceRooms>();
        return http.WriteJsonAsync(rooms.ForServer(http.OriginServer(), http.Route("roomId"), Spaces.SuggestedOnly(http)));
    }
}
