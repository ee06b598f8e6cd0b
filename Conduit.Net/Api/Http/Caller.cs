using Conduit.Net.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Conduit.Net.Api.Http;

/// <summary>
/// Who is making an authenticated request, as the access-token middleware established it.
/// Endpoints read it with <see cref="CallerExtensions.Caller"/> and never look at tokens themselves.
/// </summary>
public sealed record Caller(string UserId, string DeviceId, bool IsAdmin);

public static class CallerExtensions
{
    /// <summary>The authenticated caller; only valid on routes that require an access token.</summary>
    public static Caller Caller(this HttpContext http) =>
        http.Features.Get<Caller>() ?? throw MatrixException.MissingToken("Missing access token.");
}
