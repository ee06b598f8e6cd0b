using System.Text.Json.Nodes;
using Conduit.Net.Bench;

var options = BenchOptions.Parse(args);
if (options is null)
    return 2;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var sizes = options.Quick ? Sizes.Quick : Sizes.Full;
string? play = null;
if (options.Runs(BenchOptions.RomeoAndJuliet))
{
    play = options.RomeoAndJulietPath ?? FindPlay();
    if (play is null || !File.Exists(play))
    {
        Console.Error.WriteLine("error: romeo_and_juliet.txt not found (looked for shared/bench/ above the current directory); pass --play PATH");
        return 2;
    }
}

var machine = MachineInfo.Describe();
var serverInfo = new JsonObject
{
    ["binary"] = options.ServerPath,
    ["version"] = MachineInfo.Run(options.ServerPath, "version"),
    ["durability"] = options.Durability,
    ["rate_limiting"] = false,
    ["log"] = "warn",
};
var report = new Report(machine, serverInfo, new JsonObject
{
    ["quick"] = options.Quick,
    ["only"] = new JsonArray([.. options.Only.Select(o => (JsonNode)o)]),
});

BenchContext.Progress($"starting {options.ServerPath} (durability {options.Durability})");
var failed = false;
await using (var server = await ServerProcess.StartAsync(options.ServerPath, options.Durability, cancel.Token))
{
    serverInfo["startup_ms"] = Math.Round(server.StartupTime.TotalMilliseconds);
    // Idle means after start-up has settled: the runtime's first collections and timers have run.
    await Task.Delay(TimeSpan.FromSeconds(2), cancel.Token);
    var idle = server.ReadMemory();

    using var http = MatrixClient.CreateHttp(server.BaseAddress);
    var context = new BenchContext(server, new MatrixClient(http), sizes);
    try
    {
        // Romeo and Juliet first: the published runs started from a fresh, cold server too.
        if (play is not null)
            report.Add(await RomeoAndJuliet.RunAsync(context, play, cancel.Token));
        if (options.Runs(BenchOptions.Send))
        {
            foreach (var section in await SendThroughput.RunAsync(context, cancel.Token))
                report.Add(section);
        }

        if (options.Runs(BenchOptions.Latency))
            report.Add(await SyncLatency.RunAsync(context, cancel.Token));
        if (options.Runs(BenchOptions.InitialSync))
            report.Add(await InitialSync.RunAsync(context, cancel.Token));
        if (options.Runs(BenchOptions.BigJoin))
            report.Add(await BigJoin.RunAsync(options.ServerPath, options.Durability, sizes, cancel.Token));
    }
    catch (Exception e) when (e is BenchException or HttpRequestException or OperationCanceledException)
    {
        failed = true;
        Console.Error.WriteLine($"error: {e.Message}");
        Console.Error.WriteLine("The server's last output lines:");
        var tail = server.OutputTail();
        Console.Error.WriteLine(tail.Length > 0 ? tail : "(none)");
    }

    var memory = new Section(
        "memory",
        "Server memory",
        "VmRSS from /proc/<pid>/status 2 s after the server first answered /versions (idle) and after the last workload; peak = VmHWM.");
    var after = server.ReadMemory();
    memory.Figure("idle_rss_mb", "idle RSS after start", idle.Rss / 1048576.0, "MB");
    memory.Figure("rss_after_mb", "RSS after the run", after.Rss / 1048576.0, "MB");
    memory.Figure("peak_rss_mb", "peak RSS (VmHWM)", after.PeakRss / 1048576.0, "MB");
    report.Add(memory);

    machine["load_average_at_end"] = MachineInfo.LoadAverage();
    var exitCode = await server.StopAsync();
    serverInfo["exit_after_sigterm"] = exitCode is int code ? code : "killed after 30 s";
}

Console.WriteLine(report.Table());
await report.WriteJsonAsync(options.OutPath, CancellationToken.None);
Console.WriteLine($"Results written to {options.OutPath}");
return failed ? 1 : 0;

static string? FindPlay()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "bench", "romeo_and_juliet.txt");
        if (File.Exists(candidate))
            return candidate;
    }

    return null;
}
