using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Directories;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>POST /user_directory/search</c>.</summary>
internal static class UserDirectorySearch
{
    public static void MapUserDirectorySearch(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/_matrix/client/v3/user_directory/search", SearchAsync).RequireAccessToken();

    private static async Task SearchAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var found = http.RequestServices.GetRequiredService<UserDirectory>().Search(
            http.Caller().UserId,
            body.RequiredString("search_term"),
            body.OptionalInt("limit") ?? UserDirectory.DefaultLimit);
        var results = new JsonArray();
        foreach (var user in found.Results)
        {
            var result = new JsonObject { ["user_id"] = user.UserId };
            if (user.DisplayName is not null)
                result["display_name"] = user.DisplayName;
            if (user.AvatarUrl is not null)
                result["avatar_url"] = user.AvatarUrl;
            results.Add((JsonNode)result);
        }
        await http.WriteJsonAsync(new JsonObject { ["results"] = results, ["limited"] = found.Limited });
    }
}
