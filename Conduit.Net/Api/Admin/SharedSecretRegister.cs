using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Admin;

/// <summary>
/// Synapse's <c>/_synapse/admin/v1/register</c> (shared-secret registration): <c>GET</c> hands out a
/// nonce, <c>POST</c> creates an account whose request is signed with the configured secret.
/// </summary>
internal static class SharedSecretRegister
{
    private const string Path = "/_synapse/admin/v1/register";

    public static void MapSharedSecretRegister(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, NonceAsync);
        routes.MapPost(Path, RegisterAsync);
    }

    private static Task NonceAsync(HttpContext http)
    {
        var nonce = http.RequestServices.GetRequiredService<SharedSecretRegistration>().NewNonce();
        return http.WriteJsonAsync(new NonceResponse(nonce), ApiJson.Default.NonceResponse);
    }

    private static async Task RegisterAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.SharedSecretRegisterRequest);
        var registration = http.RequestServices.GetRequiredService<SharedSecretRegistration>().Register(
            request.Nonce ?? throw MatrixException.BadJson("nonce must be specified."),
            request.Username ?? throw MatrixException.BadJson("username must be specified."),
            request.Password ?? throw MatrixException.BadJson("password must be specified."),
            request.Admin ?? false,
            request.UserType,
            request.Displayname,
            request.Mac ?? throw MatrixException.BadJson("mac must be specified."));
        var session = registration.Session!;
        await http.WriteJsonAsync(
            new SharedSecretRegisterResponse(session.AccessToken, registration.UserId, http.RequestServices.GetRequiredService<UserService>().ServerName, session.DeviceId),
            ApiJson.Default.SharedSecretRegisterResponse);
    }
}

internal sealed record NonceResponse(string Nonce);

internal sealed record SharedSecretRegisterRequest(
    string? Nonce,
    string? Username,
    string? Password,
    bool? Admin,
    string? UserType,
    string? Displayname,
    string? Mac);

internal sealed record SharedSecretRegisterResponse(string AccessToken, string UserId, string HomeServer, string DeviceId);
