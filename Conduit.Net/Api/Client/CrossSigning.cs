using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>Cross-signing: <c>/keys/device_signing/upload</c> (behind user-interactive auth when it replaces keys) and <c>/keys/signatures/upload</c>.</summary>
internal static class CrossSigning
{
    public static void MapCrossSigning(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/_matrix/client/v3/keys/device_signing/upload", UploadKeysAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/keys/signatures/upload", UploadSignaturesAsync).RequireAccessToken();
    }

    private static async Task UploadKeysAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var uia = http.UiaRequest(body);
        var request = HttpJson.Deserialize(body, ApiJson.Default.SigningKeysUploadRequest);
        var challenge = http.RequestServices.GetRequiredService<CrossSigningKeys>()
            .UploadKeys(http.Caller().UserId, request.MasterKey, request.SelfSigningKey, request.UserSigningKey, uia);
        await (challenge is null ? http.WriteEmptyObjectAsync() : http.WriteChallengeAsync(challenge));
    }

    private static async Task UploadSignaturesAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var failures = await http.RequestServices.GetRequiredService<CrossSigningKeys>().UploadSignaturesAsync(http.Caller().UserId, body, http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["failures"] = failures });
    }
}

internal sealed record SigningKeysUploadRequest(JsonObject? MasterKey, JsonObject? SelfSigningKey, JsonObject? UserSigningKey);
