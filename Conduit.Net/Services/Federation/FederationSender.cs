using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// The outbound half of federation transactions: a worker per destination sends the transactions that
/// <see cref="FederationOutbox"/> forms from its persisted queue as <c>PUT /_matrix/federation/v1/send/{txnId}</c>,
/// one in flight at a time, at most <see cref="MaxPdus"/> PDUs and <see cref="MaxEdus"/> EDUs each, the
/// same transaction again on every retry. A failure backs the destination off (how, depends on the
/// answer: see <see cref="DeliverAsync"/>); a restart resumes every queue.
/// </summary>
public sealed class FederationSender : IHostedService, IDisposable
{
    public const int MaxPdus = 50;
    public const int MaxEdus = 100;

    /// <summary>The first wait after a failure; each further failure doubles it up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The least wait after an answer saying the destination does not take our transactions (401, 403, 404, 405).</summary>
    public static readonly TimeSpan LongBackoff = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    private readonly KvStore _store;
    private readonly FederationOutbox _outbox;
    private readonly RoomEvents _rooms;
    private readonly FederationClient _client;
    private readonly FederationPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger<FederationSender> _logger;
    private readonly string _serverName;
    private readonly ConcurrentDictionary<string, Destination> _destinations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public FederationSender(
        KvStore store,
        FederationOutbox outbox,
        RoomEvents rooms,
        FederationClient client,
        FederationPolicy policy,
        ServerConfig config,
        TimeProvider time,
        ILogger<FederationSender> logger)
    {
        _store = store;
        _outbox = outbox;
        _rooms = rooms;
        _client = client;
        _policy = policy;
        _time = time;
        _logger = logger;
        _serverName = config.ServerName;
        outbox.Queued += Wake;
    }

    /// <summary>Queues <paramref name="pdu"/> (as sent over federation) for every destination but this server, in its own durable batch.</summary>
    public void EnqueuePdu(IEnumerable<string> destinations, JsonObject pdu)
    {
        using var batch = new WriteBatch();
        EnqueuePdu(batch, destinations, pdu);
        _store.Commit(batch);
    }

    /// <summary>Queues <paramref name="pdu"/> in the caller's batch; the destinations are woken once it commits.</summary>
    public void EnqueuePdu(WriteBatch batch, IEnumerable<string> destinations, JsonObject pdu) =>
        _outbox.EnqueuePdu(batch, destinations, pdu);

    /// <summary>Queues an EDU of <paramref name="eduType"/> for <paramref name="destination"/> (nothing for this server), in its own durable batch.</summary>
    public void EnqueueEdu(string destination, string eduType, JsonObject content) =>
        EnqueueEdu([destination], eduType, content);

    /// <summary>Queues one EDU for several destinations, in its own durable batch.</summary>
    public void EnqueueEdu(IEnumerable<string> destinations, string eduType, JsonObject content)
    {
        using var batch = new WriteBatch();
        EnqueueEdu(batch, destinations, eduType, content);
        _store.Commit(batch);
    }

    /// <summary>Queues one EDU in the caller's batch; the destinations are woken once it commits.</summary>
    public void EnqueueEdu(WriteBatch batch, IEnumerable<string> destinations, string eduType, JsonObject content) =>
        _outbox.EnqueueEdu(batch, destinations, eduType, content);

    /// <summary>The servers of the users joined to the room, without this one, in a stable order.</summary>
    public IReadOnlyList<string> ServersInRoom(string roomId)
    {
        if (_rooms.Ids.FindRoom(roomId) is not { } shortRoomId)
            return [];
        return _outbox.RemoteServers(_rooms.Members.JoinedServers(shortRoomId));
    }

    /// <summary>The servers of the users joined to any of the rooms, without this one.</summary>
    public IReadOnlyList<string> ServersInRooms(IEnumerable<string> roomIds) =>
        _outbox.RemoteServers(roomIds.SelectMany(ServersInRoom));

    /// <summary>
    /// A request signed by <paramref name="origin"/> arrived: it is reachable again, so a queue waiting
    /// out a back-off for it is tried now.
    /// </summary>
    public void ServerIsBack(string origin)
    {
        if (_destinations.TryGetValue(origin, out var destination))
            destination.CutBackoff();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_policy.IsEnabled)
            return Task.CompletedTask;
        foreach (var destination in _outbox.Destinations())
            Wake(destination);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        var workers = _destinations.Values.Select(d => d.Worker).ToArray();
        try
        {
            await Task.WhenAll(workers).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Stopped waiting for {Count} federation senders to finish", workers.Length);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private void Wake(string name)
    {
        if (_stopping.IsCancellationRequested)
            return;
        var destination = _destinations.GetOrAdd(name, static n => new Destination(n));
        if (destination.Signal())
            destination.Worker = Task.Run(() => RunAsync(destination));
    }

    private async Task RunAsync(Destination destination)
    {
        var token = _stopping.Token;
        try
        {
            while (destination.TakeSignal())
            {
                while (!token.IsCancellationRequested && await _outbox.NextAsync(destination.Name) is { } transaction)
                    await DeliverAsync(destination, transaction, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            destination.Stop();
        }
        catch (Exception e)
        {
            destination.Stop();
            _logger.LogError(e, "The federation sender for {Destination} failed", destination.Name);
        }
    }

    /// <summary>
    /// Sends the transaction until the destination is done with it: a 200, or an answer that this
    /// transaction will never be taken (400, 413 and the other 4xx not named below), which drops it
    /// with a warning (the receiver can still fetch its PDUs through later events' prev_events). A
    /// 429 waits <c>retry_after_ms</c>; 401, 403, 404 and 405 (a server that does not federate with
    /// us, or not at this path) back off at least <see cref="LongBackoff"/>; anything else (5xx, no
    /// connection, a timeout) backs off from <see cref="MinBackoff"/>, doubling.
    /// </summary>
    private async Task DeliverAsync(Destination destination, OutboundTransaction transaction, CancellationToken cancellationToken)
    {
        var path = $"/_matrix/federation/v1/send/{Uri.EscapeDataString(transaction.TxnId)}";
        while (true)
        {
            var body = new JsonObject
            {
                ["origin"] = _serverName,
                ["origin_server_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                ["pdus"] = transaction.Pdus.DeepClone(),
                ["edus"] = transaction.Edus.DeepClone(),
            };
            TimeSpan wait;
            try
            {
                var response = await _client.PutAsync(destination.Name, path, body, cancellationToken);
                LogPduErrors(destination.Name, response);
                destination.Succeeded();
                break;
            }
            catch (FederationException e) when (e.Status is >= 400 and < 500 and not (401 or 403 or 404 or 405 or 408 or 429))
            {
                _logger.LogWarning(
                    "{Destination} refused transaction {TxnId} ({Error}); dropping its {Pdus} PDUs and {Edus} EDUs",
                    destination.Name, transaction.TxnId, e.Message, transaction.Pdus.Count, transaction.Edus.Count);
                break;
            }
            catch (FederationException e) when (e.Status == 429)
            {
                wait = RetryAfter(e.Body) ?? destination.Failed(MinBackoff);
                LogRetry(transaction, e, wait);
            }
            catch (Exception e) when (e is FederationException { Status: 401 or 403 or 404 or 405 } or Core.Errors.MatrixException)
            {
                wait = destination.Failed(LongBackoff);
                LogRetry(transaction, e, wait);
            }
            catch (FederationException e)
            {
                wait = destination.Failed(MinBackoff);
                LogRetry(transaction, e, wait);
            }
            await destination.WaitBackoffAsync(wait, _time, cancellationToken);
        }
        await _outbox.CompleteAsync(transaction);
    }

    private void LogRetry(OutboundTransaction transaction, Exception e, TimeSpan wait) =>
        _logger.LogInformation(
            "Transaction {TxnId} to {Destination} failed ({Error}); retrying in {Wait}",
            transaction.TxnId, transaction.Destination, e.Message, wait);

    /// <summary>The wait a 429 asks for, at most <see cref="MaxBackoff"/>; null when it names none.</summary>
    private static TimeSpan? RetryAfter(JsonObject? error) =>
        error?["retry_after_ms"] is JsonValue value && value.TryGetValue(out long ms) && ms >= 0
            ? TimeSpan.FromMilliseconds(Math.Min(ms, MaxBackoff.TotalMilliseconds))
            : null;

    private void LogPduErrors(string destination, JsonObject response)
    {
        if (response["pdus"] is not JsonObject results)
            return;
        foreach (var (eventId, result) in results)
        {
            if (result is JsonObject { } outcome && outcome["error"] is { } error)
                _logger.LogInformation("{Destination} did not accept {EventId}: {Error}", destination, eventId, error.ToJsonString());
        }
    }

    /// <summary>One destination's worker state: whether it runs, whether news arrived, and its back-off.</summary>
    private sealed class Destination(string name)
    {
        private readonly Lock _lock = new();
        private bool _running;
        private bool _pending;
        private TimeSpan _backoff;
        private CancellationTokenSource? _cut;
        private bool _backWhileSending;

        public string Name { get; } = name;

        public Task Worker { get; set; } = Task.CompletedTask;

        /// <summary>Records news; true when no worker runs and the caller must start one.</summary>
        public bool Signal()
        {
            lock (_lock)
            {
                _pending = true;
                if (_running)
                    return false;
                _running = true;
                return true;
            }
        }

        /// <summary>Consumes the news flag; false (and the worker ends) when there was none.</summary>
        public bool TakeSignal()
        {
            lock (_lock)
            {
                if (_pending)
                {
                    _pending = false;
                    return true;
                }
                _running = false;
                return false;
            }
        }

        public void Stop()
        {
            lock (_lock)
                _running = false;
        }

        /// <summary>Doubles the back-off, at least <paramref name="least"/> and at most <see cref="MaxBackoff"/>, and returns it.</summary>
        public TimeSpan Failed(TimeSpan least)
        {
            lock (_lock)
            {
                _backoff = TimeSpan.FromTicks(Math.Clamp(_backoff.Ticks * 2, least.Ticks, MaxBackoff.Ticks));
                return _backoff;
            }
        }

        public void Succeeded()
        {
            lock (_lock)
            {
                _backoff = TimeSpan.Zero;
                _backWhileSending = false;
            }
        }

        public async Task WaitBackoffAsync(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
        {
            CancellationTokenSource cut;
            lock (_lock)
            {
                if (_backWhileSending)
                {
                    // The destination spoke to us while the failed attempt was under way: it is back, so no wait.
                    _backWhileSending = false;
                    return;
                }
                _cut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cut = _cut;
            }
            try
            {
                await Task.Delay(wait, time, cut.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Cut short by ServerIsBack: try again now.
            }
            finally
            {
                lock (_lock)
                    _cut = null;
                cut.Dispose();
            }
        }

        public void CutBackoff()
        {
            lock (_lock)
            {
                if (_cut is null)
                    _backWhileSending = true;
                else
                    _cut.Cancel();
                _backoff = TimeSpan.Zero;
            }
        }
    }
}
