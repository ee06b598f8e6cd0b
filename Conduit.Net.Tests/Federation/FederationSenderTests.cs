using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Api.Http;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// The outbound queue against a server that records (instead of applying) the transactions it receives: a destination that
/// is down when entries are queued gets all of them once it is up, in order, in transactions within
/// the spec's limits, also when the sending server restarted in between.
/// </summary>
public sealed class FederationSenderTests
{
    [Test]
    public async Task A_destination_that_was_down_receives_every_queued_PDU_and_EDU_in_order_also_across_a_restart_of_the_sender()
    {
        var port = FederatedServer.ReservePort();
        var destination = $"localhost:{port}";
        await using var a = await FederatedServer.StartAsync();
        var sender = a.Host.Services.GetRequiredService<FederationSender>();
        for (var i = 0; i < 70; i++)
            sender.EnqueuePdu([destination, a.Name()], new JsonObject { ["event_id"] = $"$e{i}", ["n"] = i });
        for (var i = 0; i < 130; i++)
            sender.EnqueueEdu(destination, "org.example.test", new JsonObject { ["n"] = i });

        await a.RestartAsync();

        var received = new ConcurrentQueue<JsonObject>();
        await using var b = await FederatedServer.StartAsync(
            // Federation off leaves the path to the recorder alone; it checks no signature, so needs no key fetch.
            c => c with { ServerName = destination, Port = port, AllowFederation = false },
            routes => routes.MapPut("/_matrix/federation/v1/send/{txnId}", async (HttpContext http) =>
            {
                var body = await http.ReadObjectOrNullAsync();
                received.Enqueue(body!);
                await http.WriteJsonAsync(new JsonObject { ["pdus"] = new JsonObject() });
            }));

        await Poll.UntilAsync(() => received.Sum(t => t["edus"]!.AsArray().Count) == 130 && received.Sum(t => t["pdus"]!.AsArray().Count) == 70);

        var transactions = received.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(transactions.Select(t => (string?)t["origin"]), Has.All.EqualTo(a.Name()));
            Assert.That(transactions.Select(t => t["pdus"]!.AsArray().Count), Has.All.LessThanOrEqualTo(50));
            Assert.That(transactions.Select(t => t["edus"]!.AsArray().Count), Has.All.LessThanOrEqualTo(100));
            Assert.That(transactions.SelectMany(t => t["pdus"]!.AsArray()).Select(p => (int)p!["n"]!), Is.EqualTo(Enumerable.Range(0, 70)));
            Assert.That(transactions.SelectMany(t => t["edus"]!.AsArray()).Select(e => (int)e!["content"]!["n"]!), Is.EqualTo(Enumerable.Range(0, 130)));
            Assert.That(transactions.SelectMany(t => t["edus"]!.AsArray()).Select(e => (string?)e!["edu_type"]), Has.All.EqualTo("org.example.test"));
        });
    }
}
