using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.ToDevice;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

internal sealed record DehydratedDeviceRequest(
    string? DeviceId,
    JsonObject? DeviceData,
    string? InitialDeviceDisplayName,
    JsonObject? DeviceKeys,
    JsonObject? OneTimeKeys,
    JsonObject? FallbackKeys);

internal sealed record DehydratedDeviceResponse(string DeviceId, JsonObject? DeviceData);

internal sealed record DehydratedEventsRequest(string? NextBatch);

internal sealed record DehydratedEventsResponse(IReadOnlyList<JsonObject> Events, string NextBatch);

/// <summary>
/// Dehydrated devices (MSC3814) under their unstable prefix: <c>GET</c>/<c>PUT</c>/<c>DELETE
/// /dehydrated_device</c> and <c>POST /dehydrated_device/{deviceId}/events</c>.
/// </summary>
internal static class DehydratedDevice
{
    private const string Path = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device";

    public static void MapDehydratedDevice(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(Path, GetAsync).RequireAccessToken();
        routes.MapPut(Path, PutAsync).RequireAccessToken();
        routes.MapDelete(Path, DeleteAsync).RequireAccessToken();
        routes.MapPost(Path + "/{deviceId}/events", EventsAsync).RequireAccessToken();
    }

    private static Task GetAsync(HttpContext http)
    {
        var device = Service(http).Get(http.Caller().UserId);
        return http.WriteJsonAsync(new DehydratedDeviceResponse(device.DeviceId, device.DeviceData), ApiJson.Default.DehydratedDeviceResponse);
    }

    private static async Task PutAsync(HttpContext http)
    {
        var body = await http.ReadAsync(ApiJson.Default.DehydratedDeviceRequest);
        var deviceId = body.DeviceId ?? throw MatrixException.MissingParam("device_id is required.");
        var deviceData = body.DeviceData ?? throw MatrixException.MissingParam("device_data is required.");
        Service(http).Put(http.Caller().UserId, new(deviceId, deviceData), body.InitialDeviceDisplayName, body.DeviceKeys, body.OneTimeKeys, body.FallbackKeys);
        await http.WriteJsonAsync(new DehydratedDeviceResponse(deviceId, null), ApiJson.Default.DehydratedDeviceResponse);
    }

    private static Task DeleteAsync(HttpContext http)
    {
        var deviceId = Service(http).Delete(http.Caller().UserId);
        return http.WriteJsonAsync(new DehydratedDeviceResponse(deviceId, null), ApiJson.Default.DehydratedDeviceResponse);
    }

    private static async Task EventsAsync(HttpContext http)
    {
        var body = await http.ReadAsync(ApiJson.Default.DehydratedEventsRequest);
        var page = Service(http).Events(http.Caller().UserId, http.Route("deviceId"), body.NextBatch);
        await http.WriteJsonAsync(new DehydratedEventsResponse(page.Events, page.NextBatch), ApiJson.Default.DehydratedEventsResponse);
    }

    private static DehydratedDeviceService Service(HttpContext http) => http.RequestServices.GetRequiredService<DehydratedDeviceService>();
}
