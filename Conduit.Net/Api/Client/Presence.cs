using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Presence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>GET/PUT /presence/{userId}/status</c>: one's own presence, and that of users one shares a room with.</summary>
internal static class Presence
{
    private const string StatusPath = "/_matrix/client/v3/presence/{userId}/status";

    public static void MapPresence(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(StatusPath, GetAsync).RequireAccessToken();
        routes.MapPut(StatusPath, PutAsync).RequireAccessToken();
    }

    private static Task GetAsync(HttpContext http) =>
        http.WriteJsonAsync(Service(http).GetStatus(http.Caller().UserId, http.Route("userId")));

    private static async Task PutAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.PresenceRequest);
        var presence = request.Presence ?? throw MatrixException.BadJson("presence is required.");
        Service(http).SetStatus(http.Caller().UserId, http.Route("userId"), presence, request.StatusMsg);
        await http.WriteEmptyObjectAsync();
    }

    private static PresenceService Service(HttpContext http) => http.RequestServices.GetRequiredService<PresenceService>();
}

internal sealed record PresenceRequest(string? Presence, string? StatusMsg);
