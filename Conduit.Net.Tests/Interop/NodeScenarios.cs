using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Conduit.Net.Tests.Interop;

/// <summary>
/// Runs the interop scenarios: <c>node run.mjs SCENARIO BASEURL...</c> in this folder, which drives
/// matrix-js-sdk through <c>scenarios/SCENARIO.mjs</c> against one base URL per server and exits 0 only
/// when every step passed. Shared by the single-server and the federated fixtures.
/// </summary>
internal static class NodeScenarios
{
    // Hang guards, not speed checks: a scenario or an install still running after this is stuck.
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private static readonly string InteropDirectory = typeof(NodeScenarios).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "InteropDirectory")
        .Value!;

    /// <summary>Fails the fixture unless Node.js 20+ is on PATH, and installs the npm packages when needed.</summary>
    public static async Task PrepareAsync()
    {
        await RequireNodeAsync();
        await EnsurePackagesInstalledAsync();
    }

    /// <summary>
    /// Runs the scenario against <paramref name="servers"/> (in that order on the command line) and
    /// asserts it passed, with the scenario's output in the test log. <paramref name="trustedCaFile"/>
    /// is a PEM file Node trusts in addition to its own roots (NODE_EXTRA_CA_CERTS), for servers that
    /// serve TLS from a test authority.
    /// </summary>
    public static async Task AssertPassesAsync(string scenario, IReadOnlyList<TestServer> servers, string? trustedCaFile = null)
    {
        var baseUrls = servers.Select(server => server.Host.BaseAddress.ToString().TrimEnd('/')).ToList();
        var environment = trustedCaFile is null ? [] : new Dictionary<string, string> { ["NODE_EXTRA_CA_CERTS"] = trustedCaFile };
        var run = await RunAsync("node", ["run.mjs", scenario, .. baseUrls], ScenarioTimeout, environment);
        await TestContext.Out.WriteLineAsync(run.Output);
        Assert.That(run.ExitCode, Is.Zero, () => $"node run.mjs {scenario} {string.Join(' ', baseUrls)} {run.Outcome}\n{run.Output}");
    }

    private static async Task RequireNodeAsync()
    {
        const string need = "The interop tests need Node.js 20 or later on PATH";
        ProcessRun version;
        try
        {
            version = await RunAsync("node", ["--version"], ScenarioTimeout);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"{need}; starting `node` failed: {e.Message}");
            return;
        }
        var text = version.StdOut.Trim();
        var major = text.StartsWith('v') && int.TryParse(text[1..].Split('.')[0], out var parsed) ? parsed : 0;
        if (version.ExitCode != 0 || major < 20)
            Assert.Fail($"{need}; `node --version` {version.Outcome}\n{version.Output}");
    }

    /// <summary>
    /// Runs <c>npm ci</c> when node_modules is missing or older than package-lock.json, so that
    /// <c>dotnet test</c> works on a fresh clone and after a lockfile change. npm writes
    /// node_modules/.package-lock.json at the end of every install, which dates the install.
    /// </summary>
    private static async Task EnsurePackagesInstalledAsync()
    {
        var installed = Path.Combine(InteropDirectory, "node_modules", ".package-lock.json");
        var locked = Path.Combine(InteropDirectory, "package-lock.json");
        if (File.Exists(installed) && File.GetLastWriteTimeUtc(installed) >= File.GetLastWriteTimeUtc(locked))
            return;
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        ProcessRun install;
        try
        {
            install = await RunAsync(npm, ["ci"], InstallTimeout);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"The interop tests install their packages with npm, which did not start: {e.Message}");
            return;
        }
        if (install.ExitCode != 0)
            Assert.Fail($"npm ci in {InteropDirectory} {install.Outcome}\n{install.Output}");
    }

    private static async Task<ProcessRun> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        startInfo.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            startInfo.Environment[name] = value;

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, line) => Append(stdout, line.Data);
        process.ErrorDataReceived += (_, line) => Append(stderr, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new ProcessRun(null, $"did not finish within {timeout}", Read(stdout), Read(stderr));
        }
        return new ProcessRun(process.ExitCode, $"exited with code {process.ExitCode}", Read(stdout), Read(stderr));
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
            return;
        lock (output)
            output.AppendLine(line);
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
            return output.ToString();
    }

    private sealed record ProcessRun(int? ExitCode, string Outcome, string StdOut, string StdErr)
    {
        public string Output => StdErr.Length == 0 ? StdOut : $"{StdOut}--- stderr ---\n{StdErr}";
    }
}
