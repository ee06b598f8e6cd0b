using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Account registration: <c>POST /register</c> (user accounts only; guest accounts are not offered),
/// <c>GET /register/available</c> and the registration-token validity check.
/// </summary>
internal static class Registration
{
    public static void MapRegistration(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/_matrix/client/v3/register", RegisterAsync).RateLimited(RateLimitKind.Register);
        // Not under the registration bucket: clients check names as the user types, and a 429 there
        // would block the registration that follows.
        routes.MapGet("/_matrix/client/v3/register/available", AvailableAsync);
        routes.MapGet("/_matrix/client/v1/register/m.login.registration_token/validity", TokenValidityAsync).RateLimited(RateLimitKind.Register);
    }

    private static async Task RegisterAsync(HttpContext http)
    {
        switch (http.Query("kind") ?? "user")
        {
            case "user":
                break;
            case "guest":
                throw new MatrixException(ErrorCode.GuestAccessForbidden, "Guest accounts are not supported on this server.");
            default:
                throw MatrixException.InvalidParam("kind must be user or guest.");
        }
        var body = await http.ReadObjectAsync();
        var uia = http.UiaRequest(body);
        var request = HttpJson.Deserialize(body, ApiJson.Default.RegisterRequest);
        var users = http.RequestServices.GetRequiredService<UserService>();
        var outcome = users.Register(
            new RegistrationRequest(
                request.Username,
                request.Password,
                request.DeviceId,
                request.InitialDeviceDisplayName,
                request.InhibitLogin ?? false,
                request.RefreshToken ?? false),
            uia);
        if (outcome.Challenge is { } challenge)
        {
            await http.WriteChallengeAsync(challenge);
            return;
        }
        var registration = outcome.Value!;
        var session = registration.Session;
        await http.WriteJsonAsync(
            new RegisterResponse(
                registration.UserId,
                session?.AccessToken,
                session?.DeviceId,
                session?.RefreshToken,
                session?.ExpiresInMs,
                users.ServerName),
            ApiJson.Default.RegisterResponse);
    }

    private static Task AvailableAsync(HttpContext http)
    {
        var username = http.Query("username") ?? throw MatrixException.MissingParam("username is required.");
        http.RequestServices.GetRequiredService<UserService>().CheckAvailable(username);
        return http.WriteJsonAsync(new AvailableResponse(true), ApiJson.Default.AvailableResponse);
    }

    private static Task TokenValidityAsync(HttpContext http)
    {
        var token = http.Query("token") ?? throw MatrixException.MissingParam("token is required.");
        var valid = http.RequestServices.GetRequiredService<UserService>().IsRegistrationTokenValid(token);
        return http.WriteJsonAsync(new TokenValidityResponse(valid), ApiJson.Default.TokenValidityResponse);
    }
}

internal sealed record RegisterRequest(
    string? Username,
    string? Password,
    string? DeviceId,
    string? InitialDeviceDisplayName,
    bool? InhibitLogin,
    bool? RefreshToken);

internal sealed record RegisterResponse(
    string UserId,
    string? AccessToken,
    string? DeviceId,
    string? RefreshToken,
    long? ExpiresInMs,
    string HomeServer);

internal sealed record AvailableResponse(bool Available);

internal sealed record TokenValidityResponse(bool Valid);
