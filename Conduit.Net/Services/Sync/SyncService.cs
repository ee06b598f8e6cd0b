using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Filters;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// <c>GET /sync</c>: reads every stream for the window from the <c>since</c> token to the store's
/// committed watermark, and when there is nothing new and the request allows a wait, long-polls:
/// it registers a wake-up on every stream first, reads, and only then waits for a wake-up or the
/// timeout, so that a change landing between the read and the wait still ends it (no polling).
/// </summary>
/// <remarks>
/// Streams run in order: rooms first, because the others report on the rooms it found; unread
/// notification counts last, because they go into every joined room the others put in the response.
/// The ephemeral and end-to-end streams join the list, before the counts, as they are built.
/// </remarks>
public sealed class SyncService
{
    private readonly KvStore _store;
    private readonly FilterService _filters;
    private readonly TimeProvider _time;
    private readonly ISyncProvider[] _providers;

    public SyncService(KvStore store, FilterService filters, TimeProvider time, RoomsProvider rooms, AccountDataProvider accountData, UnreadNotificationsProvider unread)
    {
        _store = store;
        _filters = filters;
        _time = time;
        _providers = [rooms, accountData, unread];
    }

    /// <summary>
    /// The sync response: at once for an initial sync, with <c>full_state</c>, when there is news or
    /// when the timeout is zero; otherwise when news arrives or the timeout passes (an empty response
    /// whose <c>next_batch</c> is the latest position). 400 <c>M_INVALID_PARAM</c> for a token this
    /// server did not hand out or an unknown filter id.
    /// </summary>
    public async Task<JsonObject> SyncAsync(SyncRequest request, CancellationToken cancellationToken)
    {
        var filter = _filters.Resolve(request.UserId, request.Filter);
        ulong? since = request.Since is { Length: > 0 } token ? SyncToken.Parse(token, _store.CommittedCount) : null;
        if (since == 0)
            since = null;
        var wait = since is not null && !request.FullState && request.Timeout > TimeSpan.Zero;
        var deadline = _time.GetUtcNow() + request.Timeout;

        while (true)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = new SyncWatch(request.UserId, stop.Token);
            if (wait)
            {
                foreach (var provider in _providers)
                    provider.Watch(watch);
            }

            var pass = new SyncPass(request, filter, since, _store.CommittedCount);
            foreach (var provider in _providers)
                provider.Write(pass);
            var remaining = deadline - _time.GetUtcNow();
            if (!wait || pass.Response.HasNews || remaining <= TimeSpan.Zero)
                return pass.Response.ToJson();

            watch.Add(Task.Delay(remaining, _time, stop.Token));
            var woken = await Task.WhenAny(watch.WakeUps);
            await stop.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();

            // A wake-up fails only when the store closes: the server is stopping.
            if (woken.IsFaulted)
                await woken;
        }
    }

    /// <summary>400 <c>M_INVALID_PARAM</c> unless <paramref name="value"/> is a <c>set_presence</c> value.</summary>
    public static void CheckSetPresence(string? value)
    {
        if (value is not (null or "online" or "unavailable" or "offline"))
            throw MatrixException.InvalidParam("set_presence must be online, unavailable or offline.");
    }
}
