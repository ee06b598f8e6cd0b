using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>POST /_matrix/client/v3/createRoom</c>.</summary>
internal static class RoomCreation
{
    public static void MapRoomCreation(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/_matrix/client/v3/createRoom", CreateAsync).RequireAccessToken();

    private static async Task CreateAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var options = new CreateRoomOptions
        {
            Visibility = body.OptionalString("visibility"),
            RoomAliasName = body.OptionalString("room_alias_name"),
            Name = body.OptionalString("name"),
            Topic = body.OptionalString("topic"),
            Invite = body.OptionalStrings("invite"),
            Invite3PidCount = body.OptionalArray("invite_3pid")?.Count ?? 0,
            RoomVersion = body.OptionalString("room_version"),
            CreationContent = body.OptionalObject("creation_content"),
            InitialState = InitialState(body),
            Preset = body.OptionalString("preset"),
            IsDirect = body.OptionalBool("is_direct"),
            PowerLevelContentOverride = body.OptionalObject("power_level_content_override"),
        };
        var roomId = await http.RequestServices.GetRequiredService<RemoteMemberships>().CreateRoomAsync(http.Caller().UserId, options, http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["room_id"] = roomId });
    }

    private static List<InitialStateEvent> InitialState(JsonObject body)
    {
        var events = new List<InitialStateEvent>();
        foreach (var item in body.OptionalArray("initial_state") ?? [])
        {
            if (item is not JsonObject entry)
                throw MatrixException.BadJson("initial_state must be an array of objects.");
            var content = entry.OptionalObject("content") ?? throw MatrixException.BadJson("Every initial_state event needs a content object.");
            events.Add(new InitialStateEvent(entry.RequiredString("type"), entry.OptionalString("state_key") ?? "", content));
        }
        return events;
    }
}
