using System.Globalization;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary><c>GET /sync</c>: the query string read into a <see cref="SyncRequest"/>, one call to <see cref="SyncService"/>.</summary>
internal static class Sync
{
    public static void MapSync(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_matrix/client/v3/sync", SyncAsync).RequireAccessToken();

    private static async Task SyncAsync(HttpContext http)
    {
        var caller = http.Caller();
        var request = new SyncRequest(
            caller.UserId,
            caller.DeviceId,
            http.Query("filter"),
            http.Query("since"),
            Bool(http, "full_state"),
            http.Query("set_presence"),
            Timeout(http),
            Bool(http, "use_state_after"));
        var body = await http.RequestServices.GetRequiredService<SyncService>().SyncAsync(request, http.RequestAborted);
        await http.WriteJsonAsync(body);
    }

    private static bool Bool(HttpContext http, string name) =>
        http.Query(name) switch
        {
            null or "" or "false" => false,
            "true" => true,
            _ => throw MatrixException.InvalidParam($"{name} must be true or false."),
        };

    /// <summary>The <c>timeout</c> in milliseconds; a negative one waits not at all, a huge one as long as a timer can.</summary>
    private static TimeSpan Timeout(HttpContext http)
    {
        if (http.Query("timeout") is not { Length: > 0 } text)
            return TimeSpan.Zero;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milliseconds))
            throw MatrixException.InvalidParam("timeout must be an integer number of milliseconds.");
        return TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, int.MaxValue));
    }
}
