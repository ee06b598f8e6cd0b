using Conduit.Net.Api.Http;
using Conduit.Net.Services.AccountData;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Account data, global (<c>/user/{userId}/account_data/{type}</c>) and per room
/// (<c>/user/{userId}/rooms/{roomId}/account_data/{type}</c>), and room tags
/// (<c>/user/{userId}/rooms/{roomId}/tags</c>), all for one's own account only.
/// </summary>
internal static class AccountData
{
    private const string UserPath = "/_matrix/client/v3/user/{userId}";

    public static void MapAccountData(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(UserPath + "/account_data/{type}", GetGlobalAsync).RequireAccessToken();
        routes.MapPut(UserPath + "/account_data/{type}", PutGlobalAsync).RequireAccessToken();
        routes.MapGet(UserPath + "/rooms/{roomId}/account_data/{type}", GetRoomAsync).RequireAccessToken();
        routes.MapPut(UserPath + "/rooms/{roomId}/account_data/{type}", PutRoomAsync).RequireAccessToken();
        routes.MapGet(UserPath + "/rooms/{roomId}/tags", GetTagsAsync).RequireAccessToken();
        routes.MapPut(UserPath + "/rooms/{roomId}/tags/{tag}", PutTagAsync).RequireAccessToken();
        routes.MapDelete(UserPath + "/rooms/{roomId}/tags/{tag}", DeleteTagAsync).RequireAccessToken();
    }

    private static Task GetGlobalAsync(HttpContext http) =>
        http.WriteJsonAsync(Service(http).Get(http.Caller().UserId, http.Route("userId"), null, http.Route("type")));

    private static async Task PutGlobalAsync(HttpContext http)
    {
        var content = await http.ReadObjectAsync();
        Service(http).Set(http.Caller().UserId, http.Route("userId"), null, http.Route("type"), content);
        await http.WriteEmptyObjectAsync();
    }

    private static Task GetRoomAsync(HttpContext http) =>
        http.WriteJsonAsync(Service(http).Get(http.Caller().UserId, http.Route("userId"), http.Route("roomId"), http.Route("type")));

    private static async Task PutRoomAsync(HttpContext http)
    {
        var content = await http.ReadObjectAsync();
        Service(http).Set(http.Caller().UserId, http.Route("userId"), http.Route("roomId"), http.Route("type"), content);
        await http.WriteEmptyObjectAsync();
    }

    private static Task GetTagsAsync(HttpContext http) =>
        http.WriteJsonAsync(Tags(http).GetTags(http.Caller().UserId, http.Route("userId"), http.Route("roomId")));

    private static async Task PutTagAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        Tags(http).SetTag(http.Caller().UserId, http.Route("userId"), http.Route("roomId"), http.Route("tag"), body);
        await http.WriteEmptyObjectAsync();
    }

    private static Task DeleteTagAsync(HttpContext http)
    {
        Tags(http).DeleteTag(http.Caller().UserId, http.Route("userId"), http.Route("roomId"), http.Route("tag"));
        return http.WriteEmptyObjectAsync();
    }

    private static AccountDataService Service(HttpContext http) => http.RequestServices.GetRequiredService<AccountDataService>();

    private static TagService Tags(HttpContext http) => http.RequestServices.GetRequiredService<TagService>();
}
