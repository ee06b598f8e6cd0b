using Conduit.Net.Config;
using Conduit.Net.Hosting;

namespace Conduit.Net.Cli;

/// <summary>The command-line entry: verbs and their options.</summary>
internal static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        _ = args;
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        await using var host = await ConduitHost.StartAsync(new ServerConfig(), stop.Token);
        await host.WaitForShutdownAsync(stop.Token);
        return 0;
    }
}
