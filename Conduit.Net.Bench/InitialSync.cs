using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// The first <c>/sync</c> of a client logging in to an account with many busy rooms: what Element
/// waits for before it shows anything.
/// </summary>
internal static class InitialSync
{
    /// <summary>Element's kind of filter: a short timeline per room and members loaded lazily.</summary>
    private static JsonObject ElementLikeFilter() => new()
    {
        ["room"] = new JsonObject
        {
            ["state"] = new JsonObject { ["lazy_load_members"] = true },
            ["timeline"] = new JsonObject { ["limit"] = 20, ["unread_thread_notifications"] = true },
        },
    };

    public static async Task<Section> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var sizes = context.Sizes;
        var (roomCount, perRoom, writerCount) = (sizes.InitialSyncRooms, sizes.InitialSyncEventsPerRoom, sizes.InitialSyncWriters);
        var section = new Section(
            "initial_sync",
            $"Initial sync, {roomCount} rooms × {perRoom:N0} messages",
            $"Setup (not timed as the figure): a user creates {roomCount} public rooms, {writerCount} other users join each, and they " +
            $"send {perRoom:N0} messages into every room ({sizes.SetupConcurrency} rooms filled at a time). Then GET /sync without " +
            $"since, with an uploaded filter like Element's (timeline limit 20, lazy_load_members, unread_thread_notifications), " +
            $"{sizes.InitialSyncRuns} times in a row; time = request start to the whole response body read.");

        BenchContext.Progress($"initial-sync: setting up {roomCount} rooms × {perRoom} messages");
        var setupStart = Stopwatch.GetTimestamp();
        var reader = await context.NewUserAsync("reader", cancellationToken);
        var writers = await context.NewUsersAsync("writer", writerCount, cancellationToken);
        var rooms = new string[roomCount];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = sizes.SetupConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForAsync(0, roomCount, parallel, async (r, ct) =>
            rooms[r] = await reader.CreateRoomAsync(BenchContext.PublicRoom($"bench room {r}"), ct));
        // A version 12 room id is the hash of its create event: one user's rooms created in the same
        // millisecond must still come out distinct, or the figures below are for fewer rooms.
        if (rooms.Distinct().Count() != roomCount)
            throw new BenchException($"createRoom gave {rooms.Distinct().Count()} distinct room ids for {roomCount} rooms");
        await Parallel.ForAsync(0, roomCount, parallel, async (r, ct) =>
        {
            foreach (var writer in writers)
                await writer.JoinAsync(rooms[r], ct);
        });

        var filled = 0;
        var sendStart = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, roomCount, parallel, async (r, ct) =>
        {
            for (var i = 0; i < perRoom; i++)
                await writers[i % writerCount].SendTextAsync(rooms[r], $"message {i} in room {r}", ct);
            var done = Interlocked.Increment(ref filled);
            if (done % Math.Max(1, roomCount / 10) == 0)
                BenchContext.Progress($"initial-sync: {done}/{roomCount} rooms filled, {done * perRoom / BenchContext.Seconds(sendStart):N0} messages/s");
        });
        var setupSeconds = BenchContext.Seconds(setupStart);
        section.Detail("setup_seconds", Math.Round(setupSeconds, 1));
        section.Line(
            "setup_messages_per_second", "setup: messages/s",
            Math.Round(roomCount * perRoom / BenchContext.Seconds(sendStart), 1),
            $"{roomCount * perRoom / BenchContext.Seconds(sendStart):N0} ({sizes.SetupConcurrency} rooms at a time; setup took {setupSeconds:N0} s)");

        var filterId = await reader.UploadFilterAsync(ElementLikeFilter(), cancellationToken);
        BenchContext.Progress($"initial-sync: {sizes.InitialSyncRuns} initial syncs");
        var times = new List<double>();
        var sizesKb = new List<double>();
        (int Rooms, int Timeline, bool Limited) shape = default;
        await context.MeasureServerAsync(section, async () =>
        {
            for (var run = 0; run < sizes.InitialSyncRuns; run++)
            {
                var start = Stopwatch.GetTimestamp();
                var (body, readAt) = await reader.SyncAsync(filterId, null, 0, cancellationToken);
                times.Add(Stats.Milliseconds(start, readAt));
                sizesKb.Add(body.Length / 1024.0);
                shape = Shape(body, rooms[0]);
            }

            return true;
        });

        if (shape.Rooms != roomCount)
            throw new BenchException($"the initial sync listed {shape.Rooms} joined rooms, not {roomCount}");
        section.Figure("median_ms", "initial sync median", Stats.Median(times), "ms");
        section.Figure("first_ms", "first run", times[0], "ms");
        section.Figure("min_ms", "fastest", times.Min(), "ms");
        section.Figure("max_ms", "slowest", times.Max(), "ms");
        section.Figure("server_cpu_ms_per_sync", "server CPU per sync", (double)section.Json["server_cpu_seconds"]! * 1000 / times.Count, "ms");
        section.Figure("response_kb", "response size", sizesKb[^1], "KB");
        section.Detail("runs_ms", new JsonArray([.. times.Select(t => (JsonNode)Math.Round(t, 1))]));
        section.Line(
            "timeline_events_per_room", "timeline per room",
            shape.Timeline,
            $"{shape.Timeline} events, limited={shape.Limited.ToString().ToLowerInvariant()}");
        return section;
    }

    /// <summary>How many joined rooms the response lists, and the timeline it gives one of them.</summary>
    private static (int Rooms, int Timeline, bool Limited) Shape(byte[] body, string roomId)
    {
        using var json = JsonDocument.Parse(body);
        if (!json.RootElement.TryGetProperty("rooms", out var rooms) || !rooms.TryGetProperty("join", out var join))
            return (0, 0, false);
        var count = join.EnumerateObject().Count();
        if (!join.TryGetProperty(roomId, out var room) || !room.TryGetProperty("timeline", out var timeline))
            return (count, 0, false);
        var events = timeline.TryGetProperty("events", out var list) ? list.GetArrayLength() : 0;
        var limited = timeline.TryGetProperty("limited", out var flag) && flag.ValueKind == JsonValueKind.True;
        return (count, events, limited);
    }
}
