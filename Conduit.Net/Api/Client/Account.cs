using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// The current account: <c>GET /account/whoami</c>, <c>POST /account/password</c> and
/// <c>POST /account/deactivate</c>. The latter two need an access token here (there is no email
/// flow to authenticate without one) and the password through user-interactive auth.
/// </summary>
internal static class Account
{
    public static void MapAccount(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/client/v3/account/whoami", WhoAmIAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/account/password", ChangePasswordAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/account/deactivate", DeactivateAsync).RequireAccessToken();
    }

    private static Task WhoAmIAsync(HttpContext http)
    {
        var caller = http.Caller();
        return http.WriteJsonAsync(new WhoAmIResponse(caller.UserId, caller.DeviceId, IsGuest: false), ApiJson.Default.WhoAmIResponse);
    }

    private static async Task ChangePasswordAsync(HttpContext http)
    {
        var caller = http.Caller();
        var body = await http.ReadObjectAsync();
        var uia = http.UiaRequest(body);
        var request = HttpJson.Deserialize(body, ApiJson.Default.ChangePasswordRequest);
        var newPassword = request.NewPassword ?? throw MatrixException.BadJson("new_password is required.");
        var challenge = http.RequestServices.GetRequiredService<UserService>()
            .ChangePassword(caller.UserId, caller.DeviceId, newPassword, request.LogoutDevices ?? true, uia);
        if (challenge is not null)
            await http.WriteChallengeAsync(challenge);
        else
            await http.WriteEmptyObjectAsync();
    }

    private static async Task DeactivateAsync(HttpContext http)
    {
        var caller = http.Caller();
        var body = await http.ReadObjectAsync();
        var uia = http.UiaRequest(body);
        HttpJson.Deserialize(body, ApiJson.Default.DeactivateRequest);
        var challenge = http.RequestServices.GetRequiredService<UserService>().Deactivate(caller.UserId, uia);
        if (challenge is not null)
            await http.WriteChallengeAsync(challenge);
        else
            await http.WriteJsonAsync(new DeactivateResponse("no-support"), ApiJson.Default.DeactivateResponse);
    }
}

internal sealed record WhoAmIResponse(string UserId, string DeviceId, bool IsGuest);

internal sealed record ChangePasswordRequest(string? NewPassword, bool? LogoutDevices);

/// <summary>Read only to reject wrong types: there are no identity servers to unbind from and nothing to erase yet.</summary>
internal sealed record DeactivateRequest(string? IdServer, bool? Erase);

internal sealed record DeactivateResponse(string IdServerUnbindResult);
