using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Profiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary>
/// <c>GET /_matrix/federation/v1/query/profile?user_id=&amp;field=</c>: a local user's profile, or the one
/// field asked for. 404 <c>M_NOT_FOUND</c> for a user of another server, a user without a profile or
/// without the field.
/// </summary>
internal static class FederationProfile
{
    public static void MapFederationProfile(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/federation/v1/query/profile", GetAsync).RequireServerSignature();

    private static Task GetAsync(HttpContext http)
    {
        var value = http.Query("user_id") ?? throw MatrixException.MissingParam("user_id is required.");
        if (!UserId.TryParse(value, out var userId))
            throw MatrixException.InvalidParam($"\"{value}\" is not a valid user id.");
        var profiles = http.RequestServices.GetRequiredService<ProfileService>();
        return http.WriteJsonAsync(http.Query("field") is { } field ? profiles.GetField(userId, field) : profiles.GetProfile(userId));
    }
}
