using System.Net;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Http;

/// <summary>
/// The access-token check of every route marked with <see cref="RequireAccessToken{TBuilder}"/>: it
/// reads the token from <c>Authorization: Bearer</c> or the deprecated <c>access_token</c> query
/// parameter, turns it into the <see cref="Caller"/>, and records the device as seen.
/// </summary>
public static class AccessTokens
{
    /// <summary>Marks a route (or a whole group) as needing an access token.</summary>
    public static TBuilder RequireAccessToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AccessTokenRequired.Instance);

    /// <summary>Runs after routing, so that it sees which endpoint matched.</summary>
    public static IApplicationBuilder UseAccessTokens(this IApplicationBuilder app) => app.Use(Authenticate);

    /// <summary>The client's address as devices show it (<c>last_seen_ip</c>), without the IPv4-in-IPv6 wrapping.</summary>
    public static string? ClientIp(this HttpContext http) => http.Connection.RemoteIpAddress switch
    {
        null => null,
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        IPAddress address => address.ToString(),
    };

    private static Task Authenticate(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<AccessTokenRequired>() is null)
            return next(http);
        var token = TokenOf(http.Request) ?? throw MatrixException.MissingToken("Missing access token.");
        var devices = http.RequestServices.GetRequiredService<DeviceService>();
        var device = devices.Authenticate(token);
        http.Features.Set(new Caller(device.UserId, device.DeviceId, device.IsAdmin));
        devices.Touch(device.UserId, device.DeviceId, http.ClientIp());
        return next(http);
    }

    private static string? TokenOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            const string bearer = "Bearer ";
            return header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && header.Length > bearer.Length
                ? header[bearer.Length..].Trim()
                : null;
        }
        var query = request.Query["access_token"].ToString();
        return query.Length > 0 ? query : null;
    }

    private sealed class AccessTokenRequired
    {
        public static readonly AccessTokenRequired Instance = new();
    }
}
