using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>Sessions: <c>GET/POST /login</c>, <c>POST /refresh</c>, <c>POST /logout</c> and <c>/logout/all</c>.</summary>
internal static class Login
{
    private static readonly LoginFlowsResponse Flows = new([new LoginFlow(UserService.PasswordLoginType)]);

    public static void MapLogin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/client/v3/login", GetFlowsAsync);
        routes.MapPost("/_matrix/client/v3/login", LoginAsync).RateLimited(RateLimitKind.Login);
        routes.MapPost("/_matrix/client/v3/refresh", RefreshAsync);
        routes.MapPost("/_matrix/client/v3/logout", LogoutAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/logout/all", LogoutAllAsync).RequireAccessToken();
    }

    private static Task GetFlowsAsync(HttpContext http) => http.WriteJsonAsync(Flows, ApiJson.Default.LoginFlowsResponse);

    private static async Task LoginAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var request = HttpJson.Deserialize(body, ApiJson.Default.LoginRequest);
        var type = request.Type ?? throw MatrixException.MissingParam("type is required.");
        var users = http.RequestServices.GetRequiredService<UserService>();
        var result = users.Login(new LoginAttempt(
            type, body, request.Password, request.DeviceId, request.InitialDeviceDisplayName, request.RefreshToken ?? false));
        var config = http.RequestServices.GetRequiredService<ServerConfig>();
        JsonObject? wellKnown = config.WellKnown.Client is { } client
            ? new JsonObject { ["m.homeserver"] = new JsonObject { ["base_url"] = client } }
            : null;
        await http.WriteJsonAsync(
            new LoginResponse(
                result.UserId,
                result.Session.AccessToken,
                result.Session.DeviceId,
                users.ServerName,
                result.Session.RefreshToken,
                result.Session.ExpiresInMs,
                wellKnown),
            ApiJson.Default.LoginResponse);
    }

    private static async Task RefreshAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.RefreshRequest);
        var token = request.RefreshToken ?? throw MatrixException.BadJson("refresh_token is required.");
        var session = http.RequestServices.GetRequiredService<DeviceService>().Refresh(token);
        await http.WriteJsonAsync(
            new RefreshResponse(session.AccessToken, session.RefreshToken, session.ExpiresInMs),
            ApiJson.Default.RefreshResponse);
    }

    private static Task LogoutAsync(HttpContext http)
    {
        var caller = http.Caller();
        http.RequestServices.GetRequiredService<DeviceService>().Logout(caller.UserId, caller.DeviceId);
        return http.WriteEmptyObjectAsync();
    }

    private static Task LogoutAllAsync(HttpContext http)
    {
        http.RequestServices.GetRequiredService<DeviceService>().LogoutAll(http.Caller().UserId);
        return http.WriteEmptyObjectAsync();
    }
}

internal sealed record LoginFlow(string Type);

internal sealed record LoginFlowsResponse(IReadOnlyList<LoginFlow> Flows);

/// <summary>The typed part of a login body; the identifier is read from the raw object.</summary>
internal sealed record LoginRequest(
    string? Type,
    string? Password,
    string? DeviceId,
    string? InitialDeviceDisplayName,
    bool? RefreshToken);

internal sealed record LoginResponse(
    string UserId,
    string AccessToken,
    string DeviceId,
    string HomeServer,
    string? RefreshToken,
    long? ExpiresInMs,
    JsonObject? WellKnown);

internal sealed record RefreshRequest(string? RefreshToken);

internal sealed record RefreshResponse(string AccessToken, string? RefreshToken, long? ExpiresInMs);
