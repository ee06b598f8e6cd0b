using System.Globalization;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Spaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Spaces: <c>GET /_matrix/client/v1/rooms/{roomId}/hierarchy</c> with <c>suggested_only</c>, <c>limit</c>,
/// <c>max_depth</c> and the <c>from</c> token.
/// </summary>
internal static class Spaces
{
    public static void MapSpaces(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/v1/rooms/{roomId}/hierarchy", HierarchyAsync).RequireAccessToken();

    private static async Task HierarchyAsync(HttpContext http)
    {
        var request = new HierarchyRequest(
            SuggestedOnly(http),
            Integer(http, "limit"),
            Integer(http, "max_depth"),
            http.Query("from"));
        var hierarchy = http.RequestServices.GetRequiredService<SpaceHierarchy>();
        await http.WriteJsonAsync(await hierarchy.GetAsync(http.Caller().UserId, http.Route("roomId"), request, http.RequestAborted));
    }

    /// <summary>The <c>suggested_only</c> query parameter, shared with the federation <c>/hierarchy</c>.</summary>
    internal static bool SuggestedOnly(HttpContext http) => http.Query("suggested_only") switch
    {
        null or "false" => false,
        "true" => true,
        _ => throw MatrixException.InvalidParam("suggested_only must be true or false."),
    };

    private static int? Integer(HttpContext http, string name)
    {
        if (http.Query(name) is not { } text)
            return null;
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw MatrixException.InvalidParam($"{name} must be an integer.");
    }
}
