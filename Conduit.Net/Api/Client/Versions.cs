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
    /// Every version up to v1.10, whose client-server changes are served: relations and
    /// aggregations, knock_restricted and refresh tokens (v1.3); edits, threads with <c>/threads</c>,
    /// private and threaded receipts, per-thread notification counts (v1.4); <c>m.reference</c>
    /// (v1.5); <c>/timestamp_to_event</c> (v1.6); reactions, <c>m.mentions</c> with its push rules
    /// and <c>event_property_*</c> conditions (v1.7); room version 11 (v1.8);
    /// <c>.m.rule.suppress_edits</c> (v1.9); <c>recurse</c> on <c>/relations</c> and an
    /// authenticated <c>/versions</c> (v1.10). matrix-js-sdk 37.5.0 reads these to pick stable
    /// thread names (v1.3), list threads through <c>/threads</c>, ask sync for thread notification
    /// counts and send <c>m.read.private</c> to <c>/read_markers</c> (v1.4), send <c>m.mentions</c>
    /// (v1.7) and page relations recursively (v1.10).
    /// v1.11 is left out, and with it every later version: it moves media to
    /// <c>/_matrix/client/v1/media/*</c> with authentication, and clients built on matrix-js-sdk
    /// (Element) fetch every avatar and attachment there once a server lists it, which this server
    /// does not serve yet.
    /// </summary>
    private static readonly string[] Supported = ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10"];

    public static void MapVersions(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/versions", GetVersionsAsync);

    private static Task GetVersionsAsync(HttpContext http) =>
        http.WriteJsonAsync(new VersionsResponse(Supported, new Dictionary<string, bool>()), ApiJson.Default.VersionsResponse);
}

internal sealed record VersionsResponse(
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("unstable_features")] IReadOnlyDictionary<string, bool> UnstableFeatures);
