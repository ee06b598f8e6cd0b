using System.Text.Json.Nodes;
using Conduit.Net.Services.Filters;
using Conduit.Net.Services.Presence;
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
/// The end-to-end streams join the list, before the counts, as they are built.
/// </remarks>
public sealed class SyncService
{
    private readonly KvStore _store;
    private readonly FilterService _filters;
    private readonly PresenceService _presence;
    private readonly TimeProvider _time;
    private readonly ISyncProvider[] _providers;

    public SyncService(
        KvStore store,
        FilterService filters,
        PresenceService presence,
        TimeProvider time,
        RoomsProvider rooms,
        AccountDataProvider accountData,
        TypingProvider typing,
        ReceiptsProvider receipts,
        PresenceProvider presenceProvider,
        DeviceKeysProvider deviceKeys,
        ToDeviceProvider toDevice,
        UnreadNotificationsProvider unread)
    {
        _store = store;
        _filters = filters;
        _presence = presence;
        _time = time;
        _providers = [rooms, accountData, typing, receipts, presenceProvider, deviceKeys, toDevice, unread];
    }

    /// <summary>
    /// The sync response: at once for an initial sync, with <c>full_state</c>, when there is news or
    /// when the timeout is zero; otherwise when news arrives or the timeout passes (an empty response
    /// whose <c>next_batch</c> is the latest position). 400 <c>M_INVALID_PARAM</c> for a token this
    /// server did not hand out, an unknown filter id or a <c>set_presence</c> that is none of
    /// <c>online</c>, <c>unavailable</c> and <c>offline</c>. While it runs, the user counts as syncing
    /// for presence, with the request's <c>set_presence</c>.
    /// </summary>
    public async Task<JsonObject> SyncAsync(SyncRequest request, CancellationToken cancellationToken)
    {
        var filter = _filters.Resolve(request.UserId, request.Filter);
        ulong? since = request.Since is { Length: > 0 } token ? SyncToken.Parse(token, _store.CommittedCount) : null;
        if (since == 0)
            since = null;
        using var syncing = _presence.BeginSync(request.UserId, request.SetPresence);
        var wait = since is not null && !request.FullState && request.Timeout > TimeSpan.Zero;
        var deadline = _time.GetUtcNow() + request.Timeout;

        while (true)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = new SyncWatch(request.UserId, request.DeviceId, stop.Token);
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
}
