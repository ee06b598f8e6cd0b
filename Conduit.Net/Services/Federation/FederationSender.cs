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
/// The outbound half of federation transactions: PDUs and EDUs wait in a persisted queue per
/// destination (<see cref="Trees.FederationOutbox"/>) and a worker per destination sends them as
/// <c>PUT /_matrix/federation/v1/send/{txnId}</c>, one transaction in flight at a time, at most
/// <see cref="MaxPdus"/> PDUs and <see cref="MaxEdus"/> EDUs each. Entries leave the queue only
/// after a 200; a failure backs the destination off exponentially, and a restart resumes every queue.
/// </summary>
public sealed class FederationSender : IHostedService, IDisposable
{
    public const int MaxPdus = 50;
    public const int MaxEdus = 100;

    /// <summary>The first wait after a failure; each further failure doubles it up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    private const byte PduEntry = 0;
    private const byte EduEntry = 1;

    private readonly KvStore _store;
    private readonly KvTree _outbox;
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
        RoomEvents rooms,
        FederationClient client,
        FederationPolicy policy,
        ServerConfig config,
        TimeProvider time,
        ILogger<FederationSender> logger)
    {
        _store = store;
        _outbox = store.Tree(Trees.FederationOutbox);
        _rooms = rooms;
        _client = client;
        _policy = policy;
        _time = time;
        _logger = logger;
        _serverName = config.ServerName;
        rooms.LocalEventsCommitted += SendLocalEvents;
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
        Enqueue(batch, destinations, PduEntry, pdu);

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
        Enqueue(batch, destinations, EduEntry, new JsonObject { ["edu_type"] = eduType, ["content"] = content.DeepClone() });

    /// <summary>
    /// Queues local events, once durable, for the servers of the room's joined members and, for a
    /// membership event about a user of another server (an invite, a kick, a ban), that user's server.
    /// The event and its queue entry are two commits: a crash between them leaves the event unsent
    /// until the next event of the room, whose prev_events lead the receiver to fetch it.
    /// </summary>
    private void SendLocalEvents(IReadOnlyList<Pdu> events)
    {
        foreach (var pdu in events)
        {
            var destinations = new List<string>(ServersInRoom(pdu.RoomId.Value));
            if (pdu.Type == EventTypes.Member && UserId.TryParse(pdu.StateKey, out var target))
                destinations.Add(target.Server.Value);
            var federated = (JsonObject)pdu.Json.DeepClone();
            federated.Remove("unsigned");
            EnqueuePdu(destinations.Distinct(StringComparer.Ordinal), federated);
        }
    }

    /// <summary>The servers of the users joined to the room, without this one, in a stable order.</summary>
    public IReadOnlyList<string> ServersInRoom(string roomId)
    {
        if (_rooms.Ids.FindRoom(roomId) is not { } shortRoomId)
            return [];
        return ServersOf(_rooms.Members.Members(shortRoomId, Membership.Join));
    }

    /// <summary>The servers of the users joined to any of the rooms, without this one.</summary>
    public IReadOnlyList<string> ServersInRooms(IEnumerable<string> roomIds) =>
        [.. roomIds.SelectMany(ServersInRoom).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

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
        foreach (var destination in QueuedDestinations())
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

    private void Enqueue(WriteBatch batch, IEnumerable<string> destinations, byte kind, JsonObject entry)
    {
        var targets = destinations.Where(Sendable).Distinct(StringComparer.Ordinal).ToArray();
        if (targets.Length == 0)
            return;
        var position = KeyCodec.U64(_store.NextCount(batch));
        var json = Encoding.UTF8.GetBytes(entry.ToJsonString());
        var value = new byte[json.Length + 1];
        value[0] = kind;
        json.CopyTo(value, 1);
        foreach (var target in targets)
            batch.Put(_outbox, KeyCodec.Join(KeyCodec.Utf8(target), position), value);
        batch.AfterCommit(() =>
        {
            foreach (var target in targets)
                Wake(target);
        });
    }

    private bool Sendable(string destination)
    {
        if (destination == _serverName)
            return false;
        if (_policy.Allows(destination))
            return true;
        _logger.LogDebug("Not queueing for {Destination}: federation with it is not allowed", destination);
        return false;
    }

    private IReadOnlyList<string> ServersOf(IEnumerable<string> userIds) =>
        [.. userIds
            .Select(u => UserId.TryParse(u, out var id) ? id.Server.Value : null)
            .OfType<string>()
            .Where(server => server != _serverName)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];

    /// <summary>Every destination with a queued entry, read by skipping from one destination's entries to the next.</summary>
    private List<string> QueuedDestinations()
    {
        var found = new List<string>();
        byte[]? from = null;
        while (_outbox.ScanRange(from, null).FirstOrDefault() is { Key: { } key })
        {
            var destination = KeyCodec.ReadUtf8(key.AsSpan(0, key.Length - 9));
            found.Add(destination);

            // Server names are UTF-8, which never holds 0xFF: this bound is past all of its entries.
            from = [.. KeyCodec.Utf8(destination), KeyCodec.Separator, .. Enumerable.Repeat((byte)0xFF, 9)];
        }
        return found;
    }

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
                while (!token.IsCancellationRequested && ReadTransaction(destination.Name) is { } transaction)
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

    /// <summary>The oldest entries of the queue, up to the per-transaction limits, or null when it is empty.</summary>
    private Transaction? ReadTransaction(string destination)
    {
        var prefix = KeyCodec.Join(KeyCodec.Utf8(destination), []);
        var keys = new List<byte[]>();
        var pdus = new JsonArray();
        var edus = new JsonArray();
        ulong first = 0, last = 0;
        foreach (var (key, value) in _outbox.ScanPrefix(prefix))
        {
            // Stopping at the first full kind keeps a long backlog from being read for every transaction.
            if (pdus.Count == MaxPdus || edus.Count == MaxEdus)
                break;
            var isPdu = value[0] == PduEntry;
            if (JsonNode.Parse(value.AsSpan(1)) is not JsonObject entry)
                continue;
            (isPdu ? pdus : edus).Add((JsonNode)entry);
            keys.Add(key);
            var position = KeyCodec.ReadU64(key.AsSpan(prefix.Length));
            first = first == 0 ? position : first;
            last = position;
        }
        return keys.Count == 0 ? null : new Transaction($"{first}-{last}", keys, pdus, edus);
    }

    /// <summary>Sends the transaction until a 200 (backing off between failures), then drops its entries.</summary>
    private async Task DeliverAsync(Destination destination, Transaction transaction, CancellationToken cancellationToken)
    {
        var path = $"/_matrix/federation/v1/send/{Uri.EscapeDataString(transaction.Id)}";
        while (true)
        {
            var body = new JsonObject
            {
                ["origin"] = _serverName,
                ["origin_server_ts"] = _time.GetUtcNow().ToUnixTimeMilliseconds(),
                ["pdus"] = transaction.Pdus.DeepClone(),
                ["edus"] = transaction.Edus.DeepClone(),
            };
            try
            {
                var response = await _client.PutAsync(destination.Name, path, body, cancellationToken);
                LogPduErrors(destination.Name, response);
                break;
            }
            catch (Exception e) when (e is FederationException or Core.Errors.MatrixException)
            {
                var wait = destination.Failed();
                _logger.LogInformation(
                    "Transaction {TxnId} to {Destination} failed ({Error}); retrying in {Wait}",
                    transaction.Id, destination.Name, e.Message, wait);
                await destination.WaitBackoffAsync(wait, _time, cancellationToken);
            }
        }
        destination.Succeeded();
        using var batch = new WriteBatch();
        foreach (var key in transaction.Keys)
            batch.Remove(_outbox, key);
        await _store.CommitAsync(batch);
    }

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

    private sealed record Transaction(string Id, List<byte[]> Keys, JsonArray Pdus, JsonArray Edus);

    /// <summary>One destination's worker state: whether it runs, whether news arrived, and its back-off.</summary>
    private sealed class Destination(string name)
    {
        private readonly Lock _lock = new();
        private bool _running;
        private bool _pending;
        private TimeSpan _backoff;
        private CancellationTokenSource? _cut;

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

        /// <summary>Doubles the back-off (from <see cref="MinBackoff"/> up to <see cref="MaxBackoff"/>) and returns it.</summary>
        public TimeSpan Failed()
        {
            lock (_lock)
            {
                _backoff = _backoff == TimeSpan.Zero ? MinBackoff : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
                return _backoff;
            }
        }

        public void Succeeded()
        {
            lock (_lock)
                _backoff = TimeSpan.Zero;
        }

        public async Task WaitBackoffAsync(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
        {
            CancellationTokenSource cut;
            lock (_lock)
            {
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
                _cut?.Cancel();
                _backoff = TimeSpan.Zero;
            }
        }
    }
}
