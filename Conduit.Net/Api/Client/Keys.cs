using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// The key management API of end-to-end encryption: <c>/keys/upload</c>, <c>/keys/query</c>,
/// <c>/keys/claim</c> and <c>/keys/changes</c>.
/// </summary>
internal static class Keys
{
    public static void MapKeys(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/_matrix/client/v3/keys/upload", UploadAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/keys/query", QueryAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/keys/claim", ClaimAsync).RequireAccessToken();
        routes.MapGet("/_matrix/client/v3/keys/changes", ChangesAsync).RequireAccessToken();
    }

    private static async Task UploadAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.KeysUploadRequest);
        var caller = http.Caller();
        var counts = http.RequestServices.GetRequiredService<KeyService>()
            .Upload(caller.UserId, caller.DeviceId, request.DeviceKeys, request.OneTimeKeys, request.FallbackKeys);
        await http.WriteJsonAsync(new KeysUploadResponse(counts), ApiJson.Default.KeysUploadResponse);
    }

    private static async Task QueryAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.KeysQueryRequest);
        var result = await http.RequestServices.GetRequiredService<KeyService>()
            .QueryAsync(http.Caller().UserId, request.Wanted(), RemoteTimeout(request.Timeout), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject
        {
            ["device_keys"] = result.DeviceKeys,
            ["master_keys"] = result.MasterKeys,
            ["self_signing_keys"] = result.SelfSigningKeys,
            ["user_signing_keys"] = result.UserSigningKeys,
            ["failures"] = result.Failures,
        });
    }

    private static async Task ClaimAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.KeysClaimRequest);
        var result = await http.RequestServices.GetRequiredService<KeyService>()
            .ClaimAsync(request.Wanted(), RemoteTimeout(request.Timeout), http.RequestAborted);
        await http.WriteJsonAsync(new JsonObject
        {
            ["one_time_keys"] = result.OneTimeKeys,
            ["failures"] = result.Failures,
        });
    }

    /// <summary>The request's <c>timeout</c> for other servers' answers, at most the federation client's own.</summary>
    private static TimeSpan RemoteTimeout(long? milliseconds) =>
        milliseconds is { } ms
            ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, (long)FederationClient.DefaultTimeout.TotalMilliseconds))
            : FederatedKeys.DefaultTimeout;

    private static Task ChangesAsync(HttpContext http)
    {
        var from = http.Query("from") ?? throw MatrixException.MissingParam("from is required.");
        var to = http.Query("to") ?? throw MatrixException.MissingParam("to is required.");
        var changes = http.RequestServices.GetRequiredService<DeviceLists>().Changes(http.Caller().UserId, from, to);
        return http.WriteJsonAsync(new KeysChangesResponse(changes.Changed, changes.Left), ApiJson.Default.KeysChangesResponse);
    }
}

internal sealed record KeysUploadRequest(JsonObject? DeviceKeys, JsonObject? OneTimeKeys, JsonObject? FallbackKeys);

internal sealed record KeysUploadResponse(IReadOnlyDictionary<string, int> OneTimeKeyCounts);

internal sealed record KeysQueryRequest(Dictionary<string, List<string>?>? DeviceKeys, long? Timeout)
{
    /// <summary>User → device ids (empty: every device); 400 without <c>device_keys</c>.</summary>
    public Dictionary<string, IReadOnlyList<string>> Wanted() =>
        (DeviceKeys ?? throw MatrixException.MissingParam("device_keys is required."))
            .ToDictionary(e => e.Key, e => (IReadOnlyList<string>)(e.Value ?? []), StringComparer.Ordinal);
}

internal sealed record KeysClaimRequest(Dictionary<string, Dictionary<string, string>?>? OneTimeKeys, long? Timeout)
{
    /// <summary>User → device → algorithm; 400 without <c>one_time_keys</c>.</summary>
    public Dictionary<string, IReadOnlyDictionary<string, string>> Wanted() =>
        (OneTimeKeys ?? throw MatrixException.MissingParam("one_time_keys is required."))
            .ToDictionary(e => e.Key, e => (IReadOnlyDictionary<string, string>)(e.Value ?? []), StringComparer.Ordinal);
}

internal sealed record KeysChangesResponse(IReadOnlyList<string> Changed, IReadOnlyList<string> Left);
