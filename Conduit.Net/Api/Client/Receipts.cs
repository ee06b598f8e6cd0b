using System.Text.Json;
using System.Text.Json.Serialization;
using Conduit.Net.Api.Http;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Receipts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Client;

/// <summary>
/// <c>POST /rooms/{roomId}/receipt/{receiptType}/{eventId}</c> (read receipts, threaded or not, and
/// the fully read marker) and <c>POST /rooms/{roomId}/read_markers</c>.
/// </summary>
internal static class Receipts
{
    public static void MapReceipts(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}", ReceiptAsync).RequireAccessToken();
        routes.MapPost("/_matrix/client/v3/rooms/{roomId}/read_markers", ReadMarkersAsync).RequireAccessToken();
    }

    private static async Task ReceiptAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        string? threadId = null;
        if (body.TryGetPropertyValue("thread_id", out var thread))
        {
            if (thread is null || thread.GetValueKind() != JsonValueKind.String || thread.GetValue<string>().Length == 0)
                throw MatrixException.InvalidParam("thread_id must be a non-empty string.");
            threadId = thread.GetValue<string>();
        }
        Service(http).SetReceipt(http.Caller().UserId, http.Route("roomId"), http.Route("receiptType"), http.Route("eventId"), threadId);
        await http.WriteEmptyObjectAsync();
    }

    private static async Task ReadMarkersAsync(HttpContext http)
    {
        var request = await http.ReadAsync(ApiJson.Default.ReadMarkersRequest);
        Service(http).SetReadMarkers(http.Caller().UserId, http.Route("roomId"), request.FullyRead, request.Read, request.ReadPrivate);
        await http.WriteEmptyObjectAsync();
    }

    private static ReceiptService Service(HttpContext http) => http.RequestServices.GetRequiredService<ReceiptService>();
}

internal sealed record ReadMarkersRequest(
    [property: JsonPropertyName("m.fully_read")] string? FullyRead,
    [property: JsonPropertyName("m.read")] string? Read,
    [property: JsonPropertyName("m.read.private")] string? ReadPrivate);
