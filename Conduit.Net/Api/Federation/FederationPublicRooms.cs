using Conduit.Net.Api.Client;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Directories;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// <c>GET/POST /_matrix/federation/v1/publicRooms</c>: this server's published room directory, paged and
/// filtered exactly as the client API's listing of it.
/// </summary>
internal static class FederationPublicRooms
{
    private const string Path = "/_matrix/federation/v1/publicRooms";

    public static void MapFederationPublicRooms(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, GetAsync).RequireServerSignature();
        routes.MapPost(Path, PostAsync).RequireServerSignature();
    }

    private static Task GetAsync(HttpContext http)
    {
        var includeAll = http.Query("include_all_networks") switch
        {
            null or "false" => false,
            "true" => true,
            _ => throw MatrixException.InvalidParam("include_all_networks must be true or false."),
        };
        var query = new PublicRoomsQuery(
            RoomDirectoryListing.QueryLimit(http),
            http.Query("since"),
            IncludeAllNetworks: includeAll,
            ThirdPartyInstanceId: http.Query("third_party_instance_id"));
        return http.WriteJsonAsync(Directory(http).List(query).ToJson());
    }

    private static async Task PostAsync(HttpContext http)
    {
        var query = RoomDirectoryListing.BodyQuery(await http.ReadObjectAsync(), server: null);
        await http.WriteJsonAsync(Directory(http).List(query).ToJson());
    }

    private static PublicRoomDirectory Directory(HttpContext http) => http.RequestServices.GetRequiredService<PublicRoomDirectory>();
}
