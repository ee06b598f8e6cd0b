using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Api.Client;

/// <summary><c>GET /_matrix/client/versions</c>: the spec versions this server fully implements.</summary>
internal static class Versions
{
    /// <summary>Only versions whose every required endpoint works are listed; later issues add more.</summary>
    private static readonly string[] Supported = ["v1.1", "v1.2"];

    public static void MapVersions(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/versions", GetVersionsAsync);

    private static Task GetVersionsAsync(HttpContext http) =>
        http.WriteJsonAsync(new VersionsResponse(Supported, new Dictionary<string, bool>()), ApiJson.Default.VersionsResponse);
}

internal sealed record VersionsResponse(
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("unstable_features")] IReadOnlyDictionary<string, bool> UnstableFeatures);
