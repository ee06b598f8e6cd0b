using Conduit.Net.Api.Http;
using Conduit.Net.Services.Filters;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>POST /user/{userId}/filter</c> and <c>GET /user/{userId}/filter/{filterId}</c>: uploading a
/// filter definition and reading it back, for one's own account only.
/// </summary>
internal static class Filters
{
    public static void MapFilters(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/_matrix/client/v3/user/{userId}/filter", CreateAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v3/user/{userId}/filter/{filterId}", GetAsync).RequireAccessToken();
    }

    private static async Task CreateAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var filterId = Service(http).Create(http.Caller().UserId, http.Route("userId"), body);
        await http.WriteJsonAsync(new FilterCreatedResponse(filterId), ApiJson.Default.FilterCreatedResponse);
    }

    private static Task GetAsync(HttpContext http)
    {
        var definition = Service(http).Get(http.Caller().UserId, http.Route("userId"), http.Route("filterId"));
        return http.WriteJsonAsync(definition);
    }

    private static FilterService Service(HttpContext http) => http.RequestServices.GetRequiredService<FilterService>();
}

internal sealed record FilterCreatedResponse(string FilterId);
