using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Federation;

/// <summary>How a failed request to another server shows to our own clients.</summary>
public static class RemoteErrors
{
    /// <summary>
    /// The error for a client request that needed another server which failed: its 404 and 403 keep
    /// their meaning (not there, or not disclosed), anything else is 502.
    /// </summary>
    public static MatrixException ForClient(FederationException e) => e.Status switch
    {
        404 => MatrixException.NotFound($"{e.Destination} answered: {Reason(e)}"),
        403 => MatrixException.Forbidden($"{e.Destination} answered: {Reason(e)}"),
        _ => new MatrixException(ErrorCode.RemoteUnavailable, $"{e.Destination} could not be reached or failed: {Reason(e)}"),
    };

    /// <summary>
    /// An entry of a <c>failures</c> map (<c>/keys/query</c>, <c>/keys/claim</c>): the status the server
    /// answered with, 503 when it did not answer in time or at all, 403 when federation with it is not allowed.
    /// </summary>
    public static JsonObject Failure(Exception e) => e switch
    {
        FederationException f => new JsonObject { ["status"] = f.Status ?? 503, ["message"] = Reason(f) },
        MatrixException m => new JsonObject { ["status"] = m.Code.Status, ["message"] = m.Message },
        _ => new JsonObject { ["status"] = 503, ["message"] = "The server did not answer in time." },
    };

    private static string Reason(FederationException e) =>
        e.Body?["error"] is JsonValue value && value.TryGetValue(out string? error) ? error : e.Message;
}
