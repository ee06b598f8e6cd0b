using System.Diagnostics;

namespace Conduit.Net.Bench;

/// <summary>
/// Messages per second through <c>PUT /rooms/{id}/send/m.room.message/{txn}</c>: each sender waits
/// for the 200 with an event id before its next message, so the figure is acknowledged (and, with
/// durability "safe", fsynced) messages, never requests in flight.
/// </summary>
internal static class SendThroughput
{
    public static async Task<Section[]> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var sizes = context.Sizes;

        // The first requests pay for JIT compilation and cold caches; a client that has been up for a while does not.
        BenchContext.Progress($"send: warming up with {sizes.WarmupMessages} messages");
        var warm = await context.NewUserAsync("warmup", cancellationToken);
        var warmRoom = await warm.CreateRoomAsync(BenchContext.PrivateRoom(), cancellationToken);
        for (var i = 0; i < sizes.WarmupMessages; i++)
            await warm.SendTextAsync(warmRoom, $"warm-up {i}", cancellationToken);

        BenchContext.Progress($"send: 1 user, {sizes.SingleUserMessages} messages");
        var solo = await context.NewUserAsync("solo", cancellationToken);
        var soloRoom = await solo.CreateRoomAsync(BenchContext.PrivateRoom(), cancellationToken);
        var one = new Section(
            "send_1_user",
            "Messages/s, 1 user",
            $"One user sends {sizes.SingleUserMessages} text messages into its own room, one at a time: each PUT /send waits for " +
            "its 200 with an event_id before the next. Rate = messages / wall time; ack = PUT round trip as the client sees it.");
        await MeasureAsync(context, one, [solo], [soloRoom], sizes.SingleUserMessages, cancellationToken);

        var users = sizes.ConcurrentUsers;
        BenchContext.Progress($"send: {users} users in their own rooms, {sizes.MessagesPerConcurrentUser} messages each");
        var own = await context.NewUsersAsync("own", users, cancellationToken);
        var ownRooms = new string[users];
        for (var i = 0; i < users; i++)
            ownRooms[i] = await own[i].CreateRoomAsync(BenchContext.PrivateRoom(), cancellationToken);
        var ownSection = new Section(
            $"send_{users}_users_own_rooms",
            $"Messages/s, {users} concurrent users, each in its own room",
            $"{users} users, each in its own room, send {sizes.MessagesPerConcurrentUser} messages each at the same time; every user " +
            "waits for each acknowledgement before its next message. Rate = all messages / wall time from the common start to the last ack.");
        await MeasureAsync(context, ownSection, own, ownRooms, sizes.MessagesPerConcurrentUser, cancellationToken);

        BenchContext.Progress($"send: {users} users in one room, {sizes.MessagesPerConcurrentUser} messages each");
        var shared = await context.NewUsersAsync("shared", users, cancellationToken);
        var sharedRoom = await shared[0].CreateRoomAsync(BenchContext.PublicRoom(), cancellationToken);
        foreach (var member in shared.Skip(1))
            await member.JoinAsync(sharedRoom, cancellationToken);
        var sharedSection = new Section(
            $"send_{users}_users_one_room",
            $"Messages/s, {users} concurrent users, all in one room",
            $"The same {users} × {sizes.MessagesPerConcurrentUser} messages, all {users} users in one public room (so every send " +
            "contends for that room's ordered append).");
        await MeasureAsync(context, sharedSection, shared, [.. Enumerable.Repeat(sharedRoom, users)], sizes.MessagesPerConcurrentUser, cancellationToken);

        return [one, ownSection, sharedSection];
    }

    private static async Task MeasureAsync(
        BenchContext context, Section section, Session[] senders, string[] rooms, int perSender, CancellationToken cancellationToken)
    {
        var acks = new double[senders.Length][];
        var wall = await context.MeasureServerAsync(section, async () =>
        {
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(senders.Select(async (sender, s) =>
            {
                var mine = acks[s] = new double[perSender];
                for (var i = 0; i < perSender; i++)
                {
                    var sent = Stopwatch.GetTimestamp();
                    await sender.SendTextAsync(rooms[s], $"message {i} from sender {s}", cancellationToken);
                    mine[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                }
            }));
            return BenchContext.Seconds(start);
        });

        var all = acks.SelectMany(a => a).ToArray();
        section.Detail("users", senders.Length);
        section.Detail("rooms", rooms.Distinct().Count());
        section.Line("messages", "messages", all.Length, $"{all.Length:N0} in {wall:N2} s");
        section.Figure("messages_per_second", "rate", all.Length / wall, "messages/s");
        section.Figure("ack_p50_ms", "ack p50", Stats.Percentile(all, 50), "ms", 2);
        section.Figure("ack_p99_ms", "ack p99", Stats.Percentile(all, 99), "ms", 2);
        section.Detail("wall_seconds", Math.Round(wall, 3));
        section.Figure("server_cpu_ms_per_message", "server CPU per message", (double)section.Json["server_cpu_seconds"]! * 1000 / all.Length, "ms", 2);
    }
}
