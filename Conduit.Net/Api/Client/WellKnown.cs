using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>GET /.well-known/matrix/client</c> and <c>GET /.well-known/matrix/server</c>: discovery
/// documents, answered only when <c>[global.well_known]</c> configures them.
/// </summary>
/// <remarks>
/// Unconfigured, both are 404 <c>M_NOT_FOUND</c>, which the spec's discovery reads as "no
/// delegation here" (clients IGNORE and use the URL they were given; servers fall back to SRV and
/// port 8448). Guessing a base URL from the request would be wrong behind a reverse proxy, and a
/// developer on localhost types the server's address into the client anyway: clients look for
/// <c>.well-known</c> on port 443 of the server name, which is not where a test server listens.
/// Both documents live on the client listener because that is what the reverse proxy for the
/// server name's host reaches.
/// </remarks>
internal static class WellKnown
{
    public static void MapWellKnown(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/.well-known/matrix/client", GetClientAsync);
        routes.MapGet("/.well-known/matrix/server", GetServerAsync);
    }

    private static Task GetClientAsync(HttpContext http)
    {
        var baseUrl = http.RequestServices.GetRequiredService<ServerConfig>().WellKnown.Client
            ?? throw MatrixException.NotFound("No client discovery information is configured on this server.");
        return http.WriteJsonAsync(
            new WellKnownClientResponse(new HomeserverInformation(baseUrl)),
            ApiJson.Default.WellKnownClientResponse);
    }

    private static Task GetServerAsync(HttpContext http)
    {
        var server = http.RequestServices.GetRequiredService<ServerConfig>().WellKnown.Server
            ?? throw MatrixException.NotFound("No server delegation is configured on this server.");
        return http.WriteJsonAsync(new WellKnownServerResponse(server), ApiJson.Default.WellKnownServerResponse);
    }
}

internal sealed record WellKnownClientResponse(
    [property: JsonPropertyName("m.homeserver")] HomeserverInformation Homeserver);

internal sealed record HomeserverInformation(
    [property: JsonPropertyName("base_url")] string BaseUrl);

internal sealed record WellKnownServerResponse(
    [property: JsonPropertyName("m.server")] string Server);
