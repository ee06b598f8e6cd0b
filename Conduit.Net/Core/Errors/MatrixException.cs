using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Errors;

/// <summary>
/// A request failed for a reason the Matrix spec names. The error handler turns it into
/// <c>{"errcode": ..., "error": ...}</c> with the status from <see cref="ErrorCode"/>.
/// </summary>
public sealed class MatrixException : Exception
{
    public MatrixException(ErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public ErrorCode Code { get; }

    /// <summary>Milliseconds the client should wait, sent as <c>retry_after_ms</c> (and a Retry-After header).</summary>
    public long? RetryAfterMs { get; init; }

    /// <summary>Sent as <c>soft_logout</c> with <c>M_UNKNOWN_TOKEN</c> when a token merely expired.</summary>
    public bool? SoftLogout { get; init; }

    /// <summary>Extra top-level fields of the error body (user-interactive auth state, for example).</summary>
    public JsonObject? Extra { get; init; }

    public static MatrixException Forbidden(string message) => new(ErrorCode.Forbidden, message);
    public static MatrixException BadJson(string message) => new(ErrorCode.BadJson, message);
    public static MatrixException NotJson(string message) => new(ErrorCode.NotJson, message);
    public static MatrixException NotFound(string message) => new(ErrorCode.NotFound, message);
    public static MatrixException MissingToken(string message) => new(ErrorCode.MissingToken, message);
    public static MatrixException UnknownToken(string message, bool softLogout = false) =>
        new(ErrorCode.UnknownToken, message) { SoftLogout = softLogout };
    public static MatrixException InvalidParam(string message) => new(ErrorCode.InvalidParam, message);
    public static MatrixException MissingParam(string message) => new(ErrorCode.MissingParam, message);
    public static MatrixException TooLarge(string message) => new(ErrorCode.TooLarge, message);
    public static MatrixException Unrecognized(string message) => new(ErrorCode.Unrecognized, message);
    public static MatrixException LimitExceeded(long retryAfterMs) =>
        new(ErrorCode.LimitExceeded, "Too many requests; slow down.") { RetryAfterMs = retryAfterMs };

    /// <summary>The JSON body sent to the client.</summary>
    public JsonObject ToBody()
    {
        var body = new JsonObject
        {
            ["errcode"] = Code.Code,
            ["error"] = Message,
        };
        if (RetryAfterMs is { } retry)
            body["retry_after_ms"] = retry;
        if (SoftLogout is { } soft)
            body["soft_logout"] = soft;
        if (Extra is not null)
        {
            foreach (var (key, value) in Extra)
                body[key] = value?.DeepClone();
        }
        return body;
    }
}
