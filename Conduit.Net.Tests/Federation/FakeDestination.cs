using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Conduit.Net.Tests.Federation;

/// <summary>One <c>PUT /send/{txnId}</c> a <see cref="FakeDestination"/> received.</summary>
internal sealed record ReceivedTransaction(string TxnId, JsonObject Body)
{
    public IEnumerable<JsonNode> Pdus => Body["pdus"]!.AsArray().OfType<JsonNode>();

    public IEnumerable<JsonNode> Edus => Body["edus"]!.AsArray().OfType<JsonNode>();
}

/// <summary>
/// A destination for the outbound queue that records every transaction it receives (instead of applying
/// it) and answers as the test decides: a real server with federation off (so that its own /send leaves
/// the path to the recorder) and one test-only route, which checks no signature.
/// </summary>
internal sealed class FakeDestination : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedTransaction> _received = new();
    private TestServer? _server;

    /// <summary>
    /// The answer to a transaction, given how many times its id was received before (0 the first time):
    /// a status and body; null for <c>200 {"pdus": {}}</c>.
    /// </summary>
    public Func<ReceivedTransaction, int, (int Status, JsonObject Body)?> Answer { get; set; } = (_, _) => null;

    public int Port { get; } = FederatedServer.ReservePort();

    public string Name => $"localhost:{Port}";

    public IReadOnlyList<ReceivedTransaction> Received => [.. _received];

    /// <summary>Starts listening on <see cref="Port"/>.</summary>
    public async Task StartAsync() =>
        _server = await FederatedServer.StartAsync(
            c => c with { ServerName = Name, Port = Port, AllowFederation = false },
            routes => routes.MapPut("/_matrix/federation/v1/send/{txnId}", async (HttpContext http) =>
            {
                var transaction = new ReceivedTransaction(http.Route("txnId"), (await http.ReadObjectOrNullAsync())!);
                var before = _received.Count(t => t.TxnId == transaction.TxnId);
                _received.Enqueue(transaction);
                if (Answer(transaction, before) is { } answer)
                    await http.WriteJsonAsync(answer.Body, answer.Status);
                else
                    await http.WriteJsonAsync(new JsonObject { ["pdus"] = new JsonObject() });
            }));

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}
