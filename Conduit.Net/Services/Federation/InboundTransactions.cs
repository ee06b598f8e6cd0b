using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.Federation;

/// <summary>
/// <c>PUT /_matrix/federation/v1/send/{txnId}</c>, the service half: the transaction's limits, its PDUs
/// through <see cref="InboundPdus"/> in order (missing prev_events fetched from the origin with
/// <c>/get_missing_events</c>), its EDUs through <see cref="InboundEdus"/>, and the answer remembered
/// per origin and transaction id so that the same transaction again changes nothing.
/// </summary>
public sealed class InboundTransactions
{
    /// <summary>How many earlier events one <c>/get_missing_events</c> asks for.</summary>
    public const int MissingEventsLimit = 10;

    private readonly KvStore _store;
    private readonly KvTree _transactions;
    private readonly InboundPdus _pdus;
    private readonly InboundEdus _edus;
    private readonly RoomEvents _rooms;
    private readonly FederationClient _client;
    private readonly FederationSender _sender;
    private readonly ILogger<InboundTransactions> _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _origins = new(StringComparer.Ordinal);

    public InboundTransactions(
        KvStore store,
        InboundPdus pdus,
        InboundEdus edus,
        RoomEvents rooms,
        FederationClient client,
        FederationSender sender,
        ILogger<InboundTransactions> logger)
    {
        _store = store;
        _transactions = store.Tree(Trees.FederationTransactions);
        _pdus = pdus;
        _edus = edus;
        _rooms = rooms;
        _client = client;
        _sender = sender;
        _logger = logger;
    }

    /// <summary>Applies a transaction <paramref name="origin"/> signed and returns the <c>/send</c> answer.</summary>
    /// <exception cref="MatrixException">400 for a malformed or too large transaction, 403 when its origin is another server.</exception>
    public async Task<JsonObject> ReceiveAsync(string origin, string txnId, JsonObject body, CancellationToken cancellationToken)
    {
        if (body["origin"] is not JsonValue originValue || !originValue.TryGetValue<string>(out var bodyOrigin))
            throw MatrixException.BadJson("origin must be a server name.");
        if (bodyOrigin != origin)
            throw MatrixException.Forbidden($"The transaction's origin {bodyOrigin} is not the server that signed the request.");
        var pdus = body["pdus"] as JsonArray ?? throw MatrixException.BadJson("pdus must be an array.");
        var edus = body["edus"] switch
        {
            null => [],
            JsonArray array => array,
            _ => throw MatrixException.BadJson("edus must be an array."),
        };
        if (pdus.Count > FederationSender.MaxPdus || edus.Count > FederationSender.MaxEdus)
            throw MatrixException.BadJson($"A transaction holds at most {FederationSender.MaxPdus} PDUs and {FederationSender.MaxEdus} EDUs.");

        _sender.ServerIsBack(origin);
        var gate = _origins.GetOrAdd(origin, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var key = TransactionKey(origin, txnId);
            if (_transactions.Get(key) is { } answered && JsonNode.Parse(answered) is JsonObject first)
                return first;

            var results = new JsonObject();
            foreach (var pdu in pdus)
            {
                if (pdu is not JsonObject json)
                    continue;
                var result = await ReceivePduAsync(origin, json, cancellationToken);
                if (result.EventId is not null)
                    results[result.EventId] = result.Error is { } error ? new JsonObject { ["error"] = error } : new JsonObject();
            }
            foreach (var edu in edus)
            {
                if (edu is JsonObject { } json && json["edu_type"] is JsonValue type && type.TryGetValue<string>(out var eduType) && json["content"] is JsonObject content)
                    await _edus.ReceiveAsync(origin, eduType, content, cancellationToken);
            }

            var answer = new JsonObject { ["pdus"] = results };
            using var batch = new WriteBatch();
            batch.Put(_transactions, key, Encoding.UTF8.GetBytes(answer.ToJsonString()));
            await _store.CommitAsync(batch);
            return answer;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// One PDU; when its prev_events are unknown here, the events between the room's forward extremities
    /// and it are fetched from the origin once, received oldest first, and the PDU is tried again.
    /// </summary>
    private async Task<PduResult> ReceivePduAsync(string origin, JsonObject pdu, CancellationToken cancellationToken)
    {
        var result = await _pdus.ReceiveAsync(origin, pdu, cancellationToken);
        if (result.Outcome != PduOutcome.MissingEvents || result.EventId is null || (string?)pdu["room_id"] is not { } roomId)
            return result;
        var earlier = await GetMissingEventsAsync(origin, roomId, result.EventId, cancellationToken);
        if (earlier.Count == 0)
            return result;
        foreach (var missing in earlier)
            await _pdus.ReceiveAsync(origin, missing, cancellationToken);
        return await _pdus.ReceiveAsync(origin, pdu, cancellationToken);
    }

    private async Task<List<JsonObject>> GetMissingEventsAsync(string origin, string roomId, string eventId, CancellationToken cancellationToken)
    {
        if (_rooms.Find(roomId) is not { } room)
            return [];
        var earliest = new JsonArray();
        foreach (var extremity in room.Extremities)
        {
            if (_rooms.Timeline.GetAny(extremity) is { } stored)
                earliest.Add((JsonNode)JsonValue.Create(stored.EventId));
        }
        var request = new JsonObject
        {
            ["earliest_events"] = earliest,
            ["latest_events"] = new JsonArray(eventId),
            ["limit"] = MissingEventsLimit,
        };
        try
        {
            var response = await _client.PostAsync(origin, $"/_matrix/federation/v1/get_missing_events/{Uri.EscapeDataString(roomId)}", request, cancellationToken);
            return [.. (response["events"] as JsonArray ?? []).OfType<JsonObject>().OrderBy(e => e["depth"] is JsonValue d && d.TryGetValue<long>(out var depth) ? depth : 0)];
        }
        catch (FederationException e)
        {
            _logger.LogInformation("Could not fetch the events missing before {EventId} from {Origin}: {Error}", eventId, origin, e.Message);
            return [];
        }
    }

    private static byte[] TransactionKey(string origin, string txnId) =>
        SHA256.HashData(KeyCodec.Join(origin, txnId));
}
