using System.CommandLine;
using Conduit.Net.Hosting;
using Conduit.Net.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Cli;

/// <summary><c>serve</c> (also what runs with no verb): load and validate the config, run until SIGINT/SIGTERM.</summary>
internal static partial class ServeCommand
{
    public static Command Create(Verbs verbs)
    {
        var command = new Command("serve", "Run the server (the default when no verb is given)");
        command.SetAction(verbs.ServeAsync);
        return command;
    }

    public static async Task<int> RunAsync(Verbs verbs, ParseResult parse, CancellationToken cancellationToken)
    {
        var config = verbs.LoadConfig(parse);
        if (config is null)
            return 1;

        ConduitHost host;
        try
        {
            host = await ConduitHost.StartAsync(config, cancellationToken);
        }
        catch (Exception e) when (e is IOException or StoreSchemaException)
        {
            // Kestrel's "address already in use", a data directory held by another server or
            // unusable, and data written by a newer release all land here.
            return verbs.Console.Fail(e.Message);
        }

        await using (host)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conduit.Net");
            LogServing(logger, CommandLine.Version, config.ServerName, host.BaseAddress);
            await host.WaitForShutdownAsync(cancellationToken);
            LogStopping(logger);
        }
        return 0;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Conduit.Net {Version} serving {ServerName}, listening on {Address}")]
    private static partial void LogServing(ILogger logger, string version, string serverName, Uri address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stopping")]
    private static partial void LogStopping(ILogger logger);
}
