using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Auth;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>A transaction formed for a destination: its id and content stay the same on every retry.</summary>
public sealed record OutboundTransaction(string Destination, string TxnId, JsonArray Pdus, JsonArray Edus);

/// <summary>
/// The persisted outbound queue: entries per destination (<see cref="Trees.FederationOutbox"/>), written
/// into the caller's batch (a local event's own, through <see cref="ILocalEventOutbox"/>), and the one
/// transaction formed from them per destination (<see cref="Trees.FederationOutboxTransactions"/>).
/// <see cref="Queued"/> tells the sender of new entries once their batch has committed.
/// </summary>
public sealed class FederationOutbox : ILocalEventOutbox
{
    private const byte PduEntry = 0;
    private const byte EduEntry = 1;

    private readonly KvStore _store;
    private readonly KvTree _entries;
    private readonly KvTree _transactions;
    private readonly FederationPolicy _policy;
    private readonly ILogger<FederationOutbox> _logger;
    private readonly string _serverName;

    public FederationOutbox(KvStore store, FederationPolicy policy, ServerConfig config, ILogger<FederationOutbox> logger)
    {
        _store = store;
        _entries = store.Tree(Trees.FederationOutbox);
        _transactions = store.Tree(Trees.FederationOutboxTransactions);
        _policy = policy;
        _logger = logger;
        _serverName = config.ServerName;
    }

    /// <summary>A destination got new entries; raised after their batch committed.</summary>
    public event Action<string>? Queued;

    public void EnqueuePdu(WriteBatch batch, IEnumerable<string> destinations, JsonObject pdu) =>
        Enqueue(batch, destinations, PduEntry, pdu);

    public void EnqueueEdu(WriteBatch batch, IEnumerable<string> destinations, string eduType, JsonObject content) =>
        Enqueue(batch, destinations, EduEntry, new JsonObject { ["edu_type"] = eduType, ["content"] = content.DeepClone() });

    /// <summary>
    /// Queues a local event for the servers of the room's joined members and, for a membership event
    /// about a user of another server (an invite, a kick, a ban), that user's server.
    /// </summary>
    public void Queue(Pdu pdu, RoomAppend append)
    {
        if (!_policy.IsEnabled)
            return;
        var destinations = append.Room is { } room
            ? RemoteServers(append.Events.Members.JoinedServers(room.ShortRoomId)).ToList()
            : [];
        if (pdu.Type == EventTypes.Member && UserId.TryParse(pdu.StateKey, out var target))
            destinations.Add(target.Server.Value);
        if (destinations.Count == 0)
            return;
        var federated = (JsonObject)pdu.Json.DeepClone();
        federated.Remove("unsigned");
        EnqueuePdu(append.Write.Batch, destinations, federated);
    }

    /// <summary>These servers without this one, each once, in a stable order.</summary>
    public IReadOnlyList<string> RemoteServers(IEnumerable<string> servers) =>
        [.. servers.Where(server => server != _serverName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Every destination with a transaction under way or a queued entry.</summary>
    public IReadOnlyList<string> Destinations()
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, _) in _transactions.ScanPrefix([]))
            found.Add(KeyCodec.ReadUtf8(key));
        byte[]? from = null;
        while (_entries.ScanRange(from, null).FirstOrDefault() is { Key: { } key })
        {
            var destination = KeyCodec.ReadUtf8(key.AsSpan(0, key.Length - 9));
            found.Add(destination);

            // Server names are UTF-8, which never holds 0xFF: this bound is past all of its entries.
            from = [.. KeyCodec.Utf8(destination), KeyCodec.Separator, .. Enumerable.Repeat((byte)0xFF, 9)];
        }
        return [.. found];
    }

    /// <summary>
    /// The destination's transaction under way, or a new one formed from its oldest entries (up to the
    /// per-transaction limits), which leave the queue as it is saved; null when there is nothing to send.
    /// </summary>
    public async Task<OutboundTransaction?> NextAsync(string destination)
    {
        if (_transactions.Get(KeyCodec.Utf8(destination)) is { } saved && JsonNode.Parse(saved) is JsonObject record)
            return new OutboundTransaction(destination, (string)record["txn_id"]!, record["pdus"]!.AsArray(), record["edus"]!.AsArray());

        var prefix = KeyCodec.Join(KeyCodec.Utf8(destination), []);
        using var batch = new WriteBatch();
        var pdus = new JsonArray();
        var edus = new JsonArray();
        foreach (var (key, value) in _entries.ScanPrefix(prefix))
        {
            // Stopping at the first full kind keeps a long backlog from being read for every transaction.
            if (pdus.Count == FederationSender.MaxPdus || edus.Count == FederationSender.MaxEdus)
                break;
            batch.Remove(_entries, key);
            if (JsonNode.Parse(value.AsSpan(1)) is JsonObject entry)
                (value[0] == PduEntry ? pdus : edus).Add((JsonNode)entry);
        }
        if (batch.IsEmpty)
            return null;

        // The global count is never handed out twice, so no earlier transaction to this destination had this id.
        var txnId = _store.NextCount(batch).ToString(CultureInfo.InvariantCulture);
        var transaction = new OutboundTransaction(destination, txnId, pdus, edus);
        var json = new JsonObject { ["txn_id"] = txnId, ["pdus"] = pdus.DeepClone(), ["edus"] = edus.DeepClone() };
        batch.Put(_transactions, KeyCodec.Utf8(destination), Encoding.UTF8.GetBytes(json.ToJsonString()));
        await _store.CommitAsync(batch);
        return transaction;
    }

    /// <summary>The transaction is done with (delivered, or refused for good): the destination's next one is formed from the queue.</summary>
    public async Task CompleteAsync(OutboundTransaction transaction)
    {
        using var batch = new WriteBatch();
        batch.Remove(_transactions, KeyCodec.Utf8(transaction.Destination));
        await _store.CommitAsync(batch);
    }

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
            batch.Put(_entries, KeyCodec.Join(KeyCodec.Utf8(target), position), value);
        batch.AfterCommit(() =>
        {
            foreach (var target in targets)
                Queued?.Invoke(target);
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
}
