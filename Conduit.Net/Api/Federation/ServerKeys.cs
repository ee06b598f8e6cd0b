using Conduit.Net.Api.Http;
using Conduit.Net.Services.ServerKeys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// <c>GET /_matrix/key/v2/server</c>: this server's published signing keys, unauthenticated. The older
/// <c>/_matrix/key/v2/server/{keyId}</c>, still named in the spec's prose, answers the same object: the
/// key id never narrowed the response.
/// </summary>
internal static class ServerKeys
{
    public static void MapServerKeys(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/key/v2/server", GetServerKeysAsync);
        routes.MapGet("/_matrix/key/v2/server/{keyId}", GetServerKeysAsync);
    }

    private static Task GetServerKeysAsync(HttpContext http) =>
        http.WriteJsonAsync(http.RequestServices.GetRequiredService<ServerKeyService>().SignedServerKeys());
}
