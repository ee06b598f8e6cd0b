using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>/_matrix/client/v3/profile/{userId}</c> and <c>/profile/{userId}/{keyName}</c>: reading anyone's
/// profile without authentication (a remote user's from their server), and setting or deleting fields of one's own
/// (<c>displayname</c>, <c>avatar_url</c>, <c>m.tz</c> and custom namespaced fields, spec v1.16).
/// </summary>
internal static class Profile
{
    private const string ProfilePath = "/_matrix/client/v3/profile/{userId}";
    private const string FieldPath = "/_matrix/client/v3/profile/{userId}/{keyName}";

    public static void MapProfile(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(ProfilePath, GetProfileAsync);
        routes.MapGet(FieldPath, GetFieldAsync);
        routes.MapPut(FieldPath, PutFieldAsync).RequireAccessToken();
        routes.MapDelete(FieldPath, DeleteFieldAsync).RequireAccessToken();
    }

    private static async Task GetProfileAsync(HttpContext http)
    {
        var profile = await Lookup(http).GetProfileAsync(TargetUser(http), http.RequestAborted);
        await http.WriteJsonAsync(profile);
    }

    private static async Task GetFieldAsync(HttpContext http)
    {
        var field = await Lookup(http).GetFieldAsync(TargetUser(http), http.Route("keyName"), http.RequestAborted);
        await http.WriteJsonAsync(field);
    }

    private static async Task PutFieldAsync(HttpContext http)
    {
        var caller = http.Caller();
        var userId = TargetUser(http);
        var body = await http.ReadObjectAsync();
        await http.RequestServices.GetRequiredService<RoomProfiles>().SetFieldAsync(caller.UserId, userId, http.Route("keyName"), body, http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task DeleteFieldAsync(HttpContext http)
    {
        var caller = http.Caller();
        await http.RequestServices.GetRequiredService<RoomProfiles>().DeleteFieldAsync(caller.UserId, TargetUser(http), http.Route("keyName"), http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static UserId TargetUser(HttpContext http)
    {
        var value = http.Route("userId");
        return UserId.TryParse(value, out var userId)
            ? userId
            : throw MatrixException.InvalidParam($"\"{value}\" is not a valid user id.");
    }

    private static ProfileLookup Lookup(HttpContext http) => http.RequestServices.GetRequiredService<ProfileLookup>();
}
