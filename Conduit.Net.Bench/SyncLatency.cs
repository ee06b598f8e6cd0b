using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// How long a message takes from one user's send to another user's long-polling <c>/sync</c>: the
/// figure a chat user feels as "it arrived".
/// </summary>
internal static class SyncLatency
{
    private const string Prefix = "latency probe ";

    public static async Task<Section> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var sizes = context.Sizes;
        var count = sizes.LatencyMessages;
        var gapMs = sizes.LatencyGap.TotalMilliseconds;
        BenchContext.Progress($"latency: {count} messages to a long-polling receiver");
        var section = new Section(
            "send_to_sync_latency",
            "Send-to-sync delivery latency",
            $"A receiver loops GET /sync?since=<next_batch>&timeout=30000 (filter: timeline limit 100) in a room with the sender. The " +
            $"sender sends {count} messages one at a time, waiting for each ack and then {gapMs:0} ms. Latency of a message = from just " +
            "before the sender's PUT /send starts to when the receiver has read the whole /sync response body that carries it " +
            "(one clock, one process).");

        var sender = await context.NewUserAsync("latsender", cancellationToken);
        var receiver = await context.NewUserAsync("latreceiver", cancellationToken);
        var room = await sender.CreateRoomAsync(BenchContext.PublicRoom(), cancellationToken);
        await receiver.JoinAsync(room, cancellationToken);
        var filter = new JsonObject { ["room"] = new JsonObject { ["timeline"] = new JsonObject { ["limit"] = 100 } } }.ToJsonString();
        var (initial, _) = await receiver.SyncAsync(filter, null, 0, cancellationToken);
        string since;
        using (var json = JsonDocument.Parse(initial))
            since = json.RootElement.GetProperty("next_batch").GetString()!;

        var sentAt = new long[count];
        var receivedAt = new long[count];
        var received = 0;
        var syncs = 0;
        var allReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopReceiver = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task ReceiveAsync()
        {
            while (true)
            {
                var (body, readAt) = await receiver.SyncAsync(filter, since, 30_000, stopReceiver.Token);
                syncs++;
                using var json = JsonDocument.Parse(body);
                since = json.RootElement.GetProperty("next_batch").GetString()!;
                foreach (var index in ProbesIn(json.RootElement, room))
                {
                    if (index < count && receivedAt[index] == 0)
                    {
                        receivedAt[index] = readAt;
                        if (++received == count)
                            allReceived.TrySetResult();
                    }
                }
            }
        }

        var receiving = Task.Run(ReceiveAsync, CancellationToken.None);
        // Let the receiver's first long-poll reach the server, and the join's own sync traffic pass, before the first probe.
        await Task.Delay(500, cancellationToken);

        var acks = new double[count];
        await context.MeasureServerAsync(section, async () =>
        {
            for (var i = 0; i < count; i++)
            {
                if (receiving.IsFaulted)
                    break;
                sentAt[i] = Stopwatch.GetTimestamp();
                await sender.SendTextAsync(room, Prefix + i.ToString(CultureInfo.InvariantCulture), cancellationToken);
                acks[i] = Stopwatch.GetElapsedTime(sentAt[i]).TotalMilliseconds;
                await Task.Delay(sizes.LatencyGap, cancellationToken);
            }

            await Task.WhenAny(allReceived.Task, receiving, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken));
            return true;
        });
        await stopReceiver.CancelAsync();
        try
        {
            await receiving;
        }
        catch (OperationCanceledException)
        {
            // The receiver was stopped in the middle of its long-poll, as intended.
        }

        var latencies = Enumerable.Range(0, count)
            .Where(i => receivedAt[i] != 0)
            .Select(i => Stats.Milliseconds(sentAt[i], receivedAt[i]))
            .ToArray();
        section.Line("messages", "messages", count, $"{count} sent, {latencies.Length} seen by the receiver in {syncs} /sync responses");
        section.Detail("missing", count - latencies.Length);
        section.Figure("latency_p50_ms", "latency p50", Stats.Percentile(latencies, 50), "ms", 2);
        section.Figure("latency_p99_ms", "latency p99", Stats.Percentile(latencies, 99), "ms", 2);
        section.Figure("latency_max_ms", "latency max", latencies.DefaultIfEmpty(double.NaN).Max(), "ms", 2);
        section.Figure("ack_p50_ms", "sender's ack p50 (for reference)", Stats.Percentile(acks, 50), "ms", 2);
        if (latencies.Length < count)
            throw new BenchException($"the receiver saw only {latencies.Length} of {count} messages through /sync");
        return section;
    }

    /// <summary>The probe numbers among the room's timeline events in one /sync response.</summary>
    private static IEnumerable<int> ProbesIn(JsonElement sync, string roomId)
    {
        if (!sync.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var join) ||
            !join.TryGetProperty(roomId, out var room) || !room.TryGetProperty("timeline", out var timeline) ||
            !timeline.TryGetProperty("events", out var events))
            yield break;
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("content", out var content) && content.TryGetProperty("body", out var body) &&
                body.GetString() is { } text && text.StartsWith(Prefix, StringComparison.Ordinal) &&
                int.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                yield return index;
        }
    }
}
