using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// A server joining a big room over federation: a public room on one server is filled with many
/// joined members, then a user of a second, fresh server joins it by id through the first. What it
/// costs is the joining server's: fetching and checking the room's whole state and auth chain (every
/// member event's signature and content hash), then writing it, then the user's first /sync.
/// </summary>
internal static class BigJoin
{
    /// <summary>How often the joining server's resident set is read while it joins.</summary>
    private static readonly TimeSpan SamplingInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Element's kind of filter: members loaded lazily, so the sync shows the join, not 10,000 member events.</summary>
    private static JsonObject LazyMembersFilter() => new()
    {
        ["room"] = new JsonObject
        {
            ["state"] = new JsonObject { ["lazy_load_members"] = true },
            ["timeline"] = new JsonObject { ["limit"] = 20 },
        },
    };

    public static async Task<Section> RunAsync(string binary, string durability, Sizes sizes, CancellationToken cancellationToken)
    {
        var members = sizes.BigJoinMembers;
        var section = new Section(
            "big_join",
            $"Joining a room of {members:N0} members over federation",
            $"Two server processes federating over loopback (TLS on each one's federation listener with its self-signed " +
            $"certificate, certificates not verified). Setup (not timed as the figure): on the resident server, {members:N0} " +
            $"users register and join one public room ({sizes.SetupConcurrency} at a time). Then a user of the second, fresh " +
            $"server does POST /join/{{roomId}}?server_name=<resident> and, once answered, GET /sync with lazy-loaded members until " +
            $"the room is among his joined rooms; time = join request start to that sync read. The joining server's RSS is read " +
            $"every {SamplingInterval.TotalMilliseconds:N0} ms from /proc/<pid>/status; peak = VmHWM (the process did nothing " +
            $"but start and register one user before).");

        BenchContext.Progress("big-join: starting two federating servers");
        await using var resident = await ServerProcess.StartAsync(binary, durability, cancellationToken, federate: true);
        await using var joining = await ServerProcess.StartAsync(binary, durability, cancellationToken, federate: true);
        using var residentHttp = MatrixClient.CreateHttp(resident.BaseAddress);
        using var joiningHttp = MatrixClient.CreateHttp(joining.BaseAddress);
        var residentSide = new BenchContext(resident, new MatrixClient(residentHttp), sizes);
        var joiningSide = new BenchContext(joining, new MatrixClient(joiningHttp), sizes);

        var owner = await residentSide.NewUserAsync("owner", cancellationToken);
        var roomId = await owner.CreateRoomAsync(BenchContext.PublicRoom("big room"), cancellationToken);
        BenchContext.Progress($"big-join: {members:N0} users register and join {roomId}");
        var setupStart = Stopwatch.GetTimestamp();
        var joined = 0;
        await Parallel.ForAsync(1, members, new ParallelOptions { MaxDegreeOfParallelism = sizes.SetupConcurrency, CancellationToken = cancellationToken },
            async (_, ct) =>
            {
                var member = await residentSide.NewUserAsync("member", ct);
                await member.JoinAsync(roomId, ct);
                var done = Interlocked.Increment(ref joined);
                if (done % Math.Max(1, members / 10) == 0)
                    BenchContext.Progress($"big-join: {done:N0} members, {done / BenchContext.Seconds(setupStart):N0} registrations+joins/s");
            });
        var setupSeconds = BenchContext.Seconds(setupStart);
        section.Line("setup_seconds", "setup: register + join all members", Math.Round(setupSeconds, 1),
            $"{setupSeconds:N0} s ({members / setupSeconds:N0} members/s)");

        var joiner = await joiningSide.NewUserAsync("joiner", cancellationToken);
        var filterId = await joiner.UploadFilterAsync(LazyMembersFilter(), cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var before = joining.ReadMemory();
        var residentCpuBefore = resident.ReadCpuTime();
        var joiningCpuBefore = joining.ReadCpuTime();

        BenchContext.Progress($"big-join: {joiner.UserId} joins through {resident.ServerName}");
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = SampleRssAsync(joining, sampling.Token);
        var start = Stopwatch.GetTimestamp();
        await joiner.JoinViaAsync(roomId, resident.ServerName, cancellationToken);
        var joinAnswered = Stopwatch.GetTimestamp();
        long inSync;
        int syncs = 0;
        while (true)
        {
            var (body, readAt) = await joiner.SyncAsync(filterId, null, 0, cancellationToken);
            syncs++;
            if (IsJoined(body, roomId))
            {
                inSync = readAt;
                break;
            }

            await Task.Delay(50, cancellationToken);
        }

        await sampling.CancelAsync();
        var sampledPeak = await sampler;
        var after = joining.ReadMemory();

        section.Figure("join_seconds", "join until the room is in /sync", Stats.Milliseconds(start, inSync) / 1000, "s", 2);
        section.Figure("join_request_seconds", "POST /join answered after", Stats.Milliseconds(start, joinAnswered) / 1000, "s", 2);
        section.Figure("joining_peak_rss_mb", "joining server peak RSS (VmHWM)", after.PeakRss / 1048576.0, "MB");
        section.Figure("joining_rss_before_mb", "joining server RSS before the join", before.Rss / 1048576.0, "MB");
        section.Figure("joining_rss_after_mb", "joining server RSS after", after.Rss / 1048576.0, "MB");
        section.Figure("joining_cpu_seconds", "joining server CPU during the join", (joining.ReadCpuTime() - joiningCpuBefore).TotalSeconds, "s", 2);
        section.Figure("resident_cpu_seconds", "resident server CPU during the join", (resident.ReadCpuTime() - residentCpuBefore).TotalSeconds, "s", 2);
        section.Detail("joining_sampled_peak_rss_mb", Math.Round(sampledPeak / 1048576.0, 1));
        section.Detail("syncs_until_joined", syncs);
        section.Detail("members", members);
        section.Detail("load_average_after", MachineInfo.LoadAverage());
        return section;
    }

    private static async Task<long> SampleRssAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        long peak = 0;
        using var timer = new PeriodicTimer(SamplingInterval);
        try
        {
            do
                peak = Math.Max(peak, server.ReadMemory().Rss);
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // The join is over.
        }

        return peak;
    }

    private static bool IsJoined(byte[] body, string roomId)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("rooms", out var rooms)
            && rooms.TryGetProperty("join", out var join)
            && join.TryGetProperty(roomId, out _);
    }
}
