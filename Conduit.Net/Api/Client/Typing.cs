using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Ephemeral;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>PUT /rooms/{roomId}/typing/{userId}</c>: starting and stopping typing notifications.</summary>
internal static class Typing
{
    public static void MapTyping(this IEndpointRouteBuilder routes) =>
        routes.MapPut("/_matrix/client/v3/rooms/{roomId}/typing/{userId}", SetAsync).RequireAccessToken();

    private static async Task SetAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.TypingRequest);
        var typing = request.Typing ?? throw MatrixException.BadJson("typing is required.");
        http.RequestServices.GetRequiredService<TypingService>()
            .SetTyping(http.Caller().UserId, http.Route("userId"), http.Route("roomId"), typing, request.Timeout);
        await http.WriteEmptyObjectAsync();
    }
}

internal sealed record TypingRequest(bool? Typing, long? Timeout);
