using System.Text.Json.Nodes;
using Conduit.Net.Services.Federation;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The outbound queue against a destination that records (instead of applying) the transactions it
/// receives and answers as each test decides: everything queued arrives, in order, within the spec's
/// limits, across a restart of the sender; a retry is the same transaction; a refusal does not wedge
/// the queue.
/// </summary>
public sealed class FederationSenderTests
{
    private static FederationSender Sender(TestServer server) => server.Host.Services.GetRequiredService<FederationSender>();

    private static JsonObject Pdu(int n) => new() { ["event_id"] = $"$e{n}", ["n"] = n };

    private static IEnumerable<int> Numbers(IEnumerable<ReceivedTransaction> transactions) =>
        transactions.SelectMany(t => t.Pdus).Select(p => (int)p["n"]!);

    private static int[] Ints(params int[] numbers) => numbers;

    private static JsonObject Error(string errcode, long? retryAfterMs = null)
    {
        var body = new JsonObject { ["errcode"] = errcode, ["error"] = "test" };
        if (retryAfterMs is { } ms)
            body["retry_after_ms"] = ms;
        return body;
    }

    [Test]
    public async Task A_destination_that_was_down_receives_every_queued_PDU_and_EDU_in_order_also_across_a_restart_of_the_sender()
    {
        await using var destination = new FakeDestination();
        await using var a = await FederatedServer.StartAsync();
        var sender = Sender(a);
        for (var i = 0; i < 70; i++)
            sender.EnqueuePdu([destination.Name, a.Name()], Pdu(i));
        for (var i = 0; i < 130; i++)
            sender.EnqueueEdu(destination.Name, "org.example.test", new JsonObject { ["n"] = i });

        await a.RestartAsync();
        await destination.StartAsync();

        await Poll.UntilAsync(() => destination.Received.Sum(t => t.Edus.Count()) == 130 && destination.Received.Sum(t => t.Pdus.Count()) == 70);

        var transactions = destination.Received;
        Assert.Multiple(() =>
        {
            Assert.That(transactions.Select(t => (string?)t.Body["origin"]), Has.All.EqualTo(a.Name()));
            Assert.That(transactions.Select(t => t.Pdus.Count()), Has.All.LessThanOrEqualTo(50));
            Assert.That(transactions.Select(t => t.Edus.Count()), Has.All.LessThanOrEqualTo(100));
            Assert.That(Numbers(transactions), Is.EqualTo(Enumerable.Range(0, 70)));
            Assert.That(transactions.SelectMany(t => t.Edus).Select(e => (int)e["content"]!["n"]!), Is.EqualTo(Enumerable.Range(0, 130)));
            Assert.That(transactions.SelectMany(t => t.Edus).Select(e => (string?)e["edu_type"]), Has.All.EqualTo("org.example.test"));
        });
    }

    [Test]
    public async Task A_retried_transaction_keeps_its_id_and_content_while_later_entries_wait_for_the_next_one_also_across_a_restart()
    {
        await using var destination = new FakeDestination { Answer = (_, before) => before < 2 ? (500, Error("M_UNKNOWN")) : null };
        await destination.StartAsync();
        await using var a = await FederatedServer.StartAsync();
        Sender(a).EnqueuePdu([destination.Name], Pdu(0));
        await Poll.UntilAsync(() => destination.Received.Count == 1);

        Sender(a).EnqueuePdu([destination.Name], Pdu(1));
        await a.RestartAsync();
        Sender(a).EnqueuePdu([destination.Name], Pdu(2));
        await Poll.UntilAsync(() => Numbers(destination.Received).Contains(2));

        var received = destination.Received;
        var first = received[0];
        Assert.Multiple(() =>
        {
            Assert.That(received.Take(3).Select(t => t.TxnId), Has.All.EqualTo(first.TxnId), "the first transaction, tried three times");
            Assert.That(received.Take(3).Select(t => Numbers([t])), Has.All.EqualTo(Ints(0)));
            Assert.That(received.Skip(3).Select(t => t.TxnId), Has.None.EqualTo(first.TxnId));
            Assert.That(Numbers(received.Skip(3)), Is.EqualTo(Ints(1, 2)));
        });
    }

    [Test]
    public async Task A_transaction_answered_400_is_dropped_and_the_queue_moves_on()
    {
        await using var destination = new FakeDestination { Answer = (t, _) => Numbers([t]).Contains(0) ? (400, Error("M_BAD_JSON")) : null };
        await destination.StartAsync();
        await using var a = await FederatedServer.StartAsync();
        Sender(a).EnqueuePdu([destination.Name], Pdu(0));
        await Poll.UntilAsync(() => destination.Received.Count == 1);
        Sender(a).EnqueuePdu([destination.Name], Pdu(1));
        await Poll.UntilAsync(() => Numbers(destination.Received).Contains(1));

        Assert.That(destination.Received.Select(t => Numbers([t]).ToArray()), Is.EqualTo(new[] { Ints(0), Ints(1) }));
    }

    [Test]
    public async Task A_429_is_retried_with_the_same_transaction_after_retry_after_ms()
    {
        await using var destination = new FakeDestination { Answer = (_, before) => before == 0 ? (429, Error("M_LIMIT_EXCEEDED", 50)) : null };
        await destination.StartAsync();
        await using var a = await FederatedServer.StartAsync();
        Sender(a).EnqueuePdu([destination.Name], Pdu(0));
        await Poll.UntilAsync(() => destination.Received.Count == 2);

        var received = destination.Received;
        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(received.Select(t => t.TxnId).Distinct().Count(), Is.EqualTo(1));
        Assert.That(received.Select(t => Numbers([t]).Single()), Is.EqualTo(Ints(0, 0)));
    }

    [Test]
    public async Task A_403_keeps_the_transaction_for_a_later_try_rather_than_dropping_it()
    {
        await using var destination = new FakeDestination { Answer = (_, before) => before == 0 ? (403, Error("M_FORBIDDEN")) : null };
        await destination.StartAsync();
        await using var a = await FederatedServer.StartAsync();
        Sender(a).EnqueuePdu([destination.Name], Pdu(0));
        await Poll.UntilAsync(() => destination.Received.Count == 1);

        // The long back-off would outlast the test; a request from the destination ends it, as it would in production.
        Sender(a).ServerIsBack(destination.Name);
        await Poll.UntilAsync(() => destination.Received.Count == 2);

        var received = destination.Received;
        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(received[1].TxnId, Is.EqualTo(received[0].TxnId));
        Assert.That(Numbers([received[1]]), Is.EqualTo(Ints(0)));
    }
}
