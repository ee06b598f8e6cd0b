using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// Device management: list, get, rename, and delete (one or many, behind the password). Deleting a
/// device logs it out.
/// </summary>
internal static class Devices
{
    public static void MapDevices(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_matrix/client/v3/devices", ListAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v3/devices/{deviceId}", GetAsync).RequireAccessToken();
        routes.MapPut("/_matrix/client/v3/devices/{deviceId}", UpdateAsync).RequireAccessToken();
        routes.MapDelete("/_matrix/client/v3/devices/{deviceId}", DeleteAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/delete_devices", DeleteManyAsync).RequireAccessToken();
    }

    private static Task ListAsync(HttpContext http)
    {
        var devices = http.RequestServices.GetRequiredService<DeviceService>().List(http.Caller().UserId);
        return http.WriteJsonAsync(new DevicesResponse([.. devices.Select(ToResponse)]), ApiJson.Default.DevicesResponse);
    }

    private static Task GetAsync(HttpContext http)
    {
        var device = http.RequestServices.GetRequiredService<DeviceService>().Get(http.Caller().UserId, http.Route("deviceId"));
        return http.WriteJsonAsync(ToResponse(device), ApiJson.Default.DeviceResponse);
    }

    private static async Task UpdateAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.UpdateDeviceRequest);
        http.RequestServices.GetRequiredService<DeviceService>().Rename(http.Caller().UserId, http.Route("deviceId"), request.DisplayName);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task DeleteAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var challenge = http.RequestServices.GetRequiredService<UserService>()
            .DeleteDevices(http.Caller().UserId, [http.Route("deviceId")], http.UiaRequest(body));
        await RespondAsync(http, challenge);
    }

    private static async Task DeleteManyAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var uia = http.UiaRequest(body);
        var request = HttpJson.Deserialize(body, ApiJson.Default.DeleteDevicesRequest);
        var devices = request.Devices ?? throw MatrixException.BadJson("devices is required.");
        var challenge = http.RequestServices.GetRequiredService<UserService>().DeleteDevices(http.Caller().UserId, devices, uia);
        await RespondAsync(http, challenge);
    }

    private static Task RespondAsync(HttpContext http, UiaChallenge? challenge) =>
        challenge is null ? http.WriteEmptyObjectAsync() : http.WriteChallengeAsync(challenge);

    private static DeviceResponse ToResponse(DeviceInfo device) =>
        new(device.DeviceId, device.DisplayName, device.LastSeenIp, device.LastSeenTs);
}

internal sealed record DeviceResponse(string DeviceId, string? DisplayName, string? LastSeenIp, long? LastSeenTs);

internal sealed record DevicesResponse(IReadOnlyList<DeviceResponse> Devices);

internal sealed record UpdateDeviceRequest(string? DisplayName);

internal sealed record DeleteDevicesRequest(IReadOnlyList<string>? Devices);
