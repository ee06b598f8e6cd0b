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

/// <summary>
/// Room membership: join (<c>/join/{roomIdOrAlias}</c> with <c>via</c> and <c>server_name</c> for rooms of
/// other servers, <c>/rooms/{roomId}/join</c>), leave, forget, invite, kick, ban, unban, knock,
/// <c>/joined_rooms</c>, <c>/members</c> and <c>/joined_members</c>.
/// </summary>
internal static class RoomMembership
{
    private const string Client = "/_matrix/client/v3";
    private const string Rooms = Client + "/rooms/{roomId}";

    public static void MapRoomMembership(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(Client + "/join/{roomIdOrAlias}", JoinAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/join", JoinByIdAsync).RequireAccessToken();
        routes.MapPost(Client + "/knock/{roomIdOrAlias}", KnockAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/leave", LeaveAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/forget", ForgetAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/invite", InviteAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/kick", KickAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/ban", BanAsync).RequireAccessToken();
        routes.MapPost(Rooms + "/unban", UnbanAsync).RequireAccessToken();
        routes.MapGet(Client + "/joined_rooms", JoinedRoomsAsync).RequireAccessToken();
        routes.MapGet(Rooms + "/members", MembersAsync).RequireAccessToken();
        routes.MapGet(Rooms + "/joined_members", JoinedMembersAsync).RequireAccessToken();
    }

    private static async Task JoinAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var roomId = await Remote(http).JoinAsync(http.Caller().UserId, http.Route("roomIdOrAlias"), body.OptionalString("reason"), Via(http), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["room_id"] = roomId });
    }

    private static async Task JoinByIdAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var roomId = await Remote(http).JoinAsync(http.Caller().UserId, http.Route("roomId"), body.OptionalString("reason"), [], http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["room_id"] = roomId });
    }

    private static async Task KnockAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var roomId = await Remote(http).KnockAsync(http.Caller().UserId, http.Route("roomIdOrAlias"), body.OptionalString("reason"), Via(http), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject { ["room_id"] = roomId });
    }

    private static async Task LeaveAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await Remote(http).LeaveAsync(http.Caller().UserId, http.Route("roomId"), body.OptionalString("reason"), http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task ForgetAsync(HttpContext http)
    {
        await http.ReadObjectAsync();
        await Service(http).ForgetAsync(http.Caller().UserId, http.Route("roomId"), http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task InviteAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        await Remote(http).InviteAsync(http.Caller().UserId, http.Route("roomId"), body.RequiredString("user_id"), body.OptionalString("reason"), isDirect: false, http.RequestAborted);
        await http.WriteEmptyObjectAsync();
    }

    private static Task KickAsync(HttpContext http) =>
        TargetedAsync(http, (service, caller, roomId, target, reason) => service.KickAsync(caller, roomId, target, reason, http.RequestAborted));

    private static Task BanAsync(HttpContext http) =>
        TargetedAsync(http, (service, caller, roomId, target, reason) => service.BanAsync(caller, roomId, target, reason, http.RequestAborted));

    private static Task UnbanAsync(HttpContext http) =>
        TargetedAsync(http, (service, caller, roomId, target, reason) => service.UnbanAsync(caller, roomId, target, reason, http.RequestAborted));

    private static async Task TargetedAsync(HttpContext http, Func<MembershipService, string, string, string, string?, Task> change)
    {
        var body = await http.ReadObjectAsync();
        await change(Service(http), http.Caller().UserId, http.Route("roomId"), body.RequiredString("user_id"), body.OptionalString("reason"));
        await http.WriteEmptyObjectAsync();
    }

    private static Task JoinedRoomsAsync(HttpContext http)
    {
        var rooms = new JsonArray([.. Service(http).JoinedRooms(http.Caller().UserId).Select(r => (JsonNode)r)]);
        return http.WriteJsonAsync(new JsonObject { ["joined_rooms"] = rooms });
    }

    private static Task MembersAsync(HttpContext http)
    {
        long? at = null;
        if (http.Query("at") is { } token)
            at = TimelineToken.TryParse(token, out var position) ? position : throw MatrixException.InvalidParam("at is not a valid pagination token.");
        var membership = MembershipFilter(http, "membership");
        var notMembership = MembershipFilter(http, "not_membership");
        var chunk = Service(http).Members(http.Caller().UserId, http.Route("roomId"), at, membership, notMembership);
        return http.WriteJsonAsync(new JsonObject { ["chunk"] = chunk });
    }

    private static Task JoinedMembersAsync(HttpContext http) =>
        http.WriteJsonAsync(Service(http).JoinedMembers(http.Caller().UserId, http.Route("roomId")));

    private static string? MembershipFilter(HttpContext http, string name) =>
        http.Query(name) switch
        {
            null => null,
            "join" or "invite" or "knock" or "leave" or "ban" => http.Query(name),
            _ => throw MatrixException.InvalidParam($"{name} must be one of join, invite, knock, leave, ban."),
        };

    private static MembershipService Service(HttpContext http) => http.RequestServices.GetRequiredService<MembershipService>();

    private static RemoteMemberships Remote(HttpContext http) => http.RequestServices.GetRequiredService<RemoteMemberships>();

    /// <summary>The servers a client names for a room of another server: <c>via</c>, and the older <c>server_name</c>.</summary>
    private static List<string> Via(HttpContext http) => http.Request.Query["via"].Concat(http.Request.Query["server_name"]).OfType<string>().ToList();
}
