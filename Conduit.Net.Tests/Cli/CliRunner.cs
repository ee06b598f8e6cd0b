using System.Net;
using System.Net.Sockets;
using Conduit.Net.Cli;

namespace Conduit.Net.Tests.Cli;

/// <summary>Runs the CLI in-process through its real entry, with captured output and a chosen environment.</summary>
internal static class CliRunner
{
    public static async Task<CliResult> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string>? environment = null,
        string standardInput = "",
        CancellationToken cancellationToken = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new StringReader(standardInput);
        var console = new CliConsole(input, output, error, environment ?? new Dictionary<string, string>());
        var code = await CommandLine.RunAsync(args, console, cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>A loopback port that was free a moment ago, for runs that cannot report an OS-chosen one.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string TempDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The error output's lines; a failing verb must print exactly one.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
