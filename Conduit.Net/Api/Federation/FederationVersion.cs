using System.Reflection;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Net.Api.Federation;

/// <summary><c>GET /_matrix/federation/v1/version</c>: this implementation's name and version, unauthenticated.</summary>
internal static class FederationVersion
{
    private static readonly string Version =
        typeof(FederationVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static void MapFederationVersion(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/federation/v1/version", GetVersionAsync);

    private static Task GetVersionAsync(HttpContext http) =>
        http.WriteJsonAsync(new JsonObject { ["server"] = new JsonObject { ["name"] = "Conduit.Net", ["version"] = Version } });
}
