using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Api.Client;

/// <summary><c>GET /_matrix/client/versions</c>: the spec versions whose rules this server follows.</summary>
internal static class Versions
{
    /// <summary>
    /// No version is met in full yet: rooms and sync are mandatory in every one of them and do not
    /// exist. Clients refuse a server that lists none of the versions they know (matrix-js-sdk
    /// wants v1.1 or later), so the list holds the versions whose rules for the endpoints that do
    /// exist (registration with tokens, login, devices, whoami with <c>is_guest</c>, profiles,
    /// capabilities) the server follows: v1.1 and v1.2. Later versions change rooms, events and media
    /// (relations in v1.3, threads in v1.4, authenticated media in v1.11, new room versions); a
    /// version is added once its changes are in, not before.
    /// </summary>
    private static readonly string[] Supported = ["v1.1", "v1.2"];

    public static void MapVersions(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/versions", GetVersionsAsync);

    private static Task GetVersionsAsync(HttpContext http) =>
        http.WriteJsonAsync(new VersionsResponse(Supported, new Dictionary<string, bool>()), ApiJson.Default.VersionsResponse);
}

internal sealed record VersionsResponse(
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("unstable_features")] IReadOnlyDictionary<string, bool> UnstableFeatures);
