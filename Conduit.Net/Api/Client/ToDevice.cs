using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.ToDevice;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>Send-to-device messaging: <c>PUT /sendToDevice/{eventType}/{txnId}</c>.</summary>
internal static class ToDevice
{
    public static void MapToDevice(this IEndpointRouteBuilder routes) =>
        routes.MapPut("/_matrix/client/v3/sendToDevice/{eventType}/{txnId}", SendAsync).RequireAccessToken();

    private static async Task SendAsync(HttpContext http)
    {
        var caller = http.Caller();
        var body = await http.ReadObjectAsync();
        var messages = body.OptionalObject("messages") ?? throw MatrixException.BadJson("messages is required: an object of user ids to device ids to contents.");
        http.RequestServices.GetRequiredService<ToDeviceService>().Send(caller.UserId, caller.DeviceId, http.Route("eventType"), http.Route("txnId"), messages);
        await http.WriteEmptyObjectAsync();
    }
}
