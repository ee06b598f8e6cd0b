namespace Conduit.Net.Services.Sync;

/// <summary>The parameters of one <c>GET /sync</c>, as the endpoint read them from the query string.</summary>
/// <param name="Filter">The <c>filter</c> parameter: a filter id, inline JSON, or null.</param>
/// <param name="Since">The <c>since</c> token, or null for an initial sync.</param>
/// <param name="SetPresence">The <c>set_presence</c> parameter, or null.</param>
/// <param name="Timeout">How long to wait for news when there is none (0: answer at once).</param>
/// <param name="UseStateAfter">Report state up to the end of the timeline in <c>state_after</c> instead of <c>state</c>.</param>
public sealed record SyncRequest(
    string UserId,
    string DeviceId,
    string? Filter,
    string? Since,
    bool FullState,
    string? SetPresence,
    TimeSpan Timeout,
    bool UseStateAfter);
