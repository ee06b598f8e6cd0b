using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Conduit.Net.Bench;

/// <summary>The server's memory as the kernel reports it, in bytes.</summary>
internal sealed record MemoryUsage(long Rss, long PeakRss);

/// <summary>
/// The published server binary as a child process on a free loopback port with a fresh data
/// directory, configured through <c>CONDUIT_*</c> variables only (no config file), so the run
/// measures the embedded defaults plus the few settings a benchmark needs.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Linux's USER_HZ: /proc/&lt;pid&gt;/stat counts CPU time in these ticks on every architecture .NET runs on.</summary>
    private const double ClockTicksPerSecond = 100;

    private readonly Process _process;
    private readonly Queue<string> _outputTail = new();

    private ServerProcess(Process process, Uri baseAddress, string dataDirectory, string serverName)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
        ServerName = serverName;
    }

    public Uri BaseAddress { get; }

    public string ServerName { get; }

    public string DataDirectory { get; }

    public int Pid => _process.Id;

    /// <summary>From process start to the first answer of <c>/_matrix/client/versions</c>.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>
    /// Starts one. With <paramref name="federate"/> it is named <c>localhost:PORT</c> after a second,
    /// TLS-only federation listener (its self-signed development certificate) and talks to other such
    /// servers on loopback: certificates unchecked, no IP blacklist, no notary.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string binary, string durability, CancellationToken cancellationToken, bool federate = false)
    {
        var port = FreeLoopbackPort();
        var serverName = "localhost";
        var data = Path.Combine(Path.GetTempPath(), "conduit-net-bench-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(binary, ["serve"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Only our settings: a CONDUIT_* variable left over in the caller's shell would change what is measured.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("CONDUIT_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        if (federate)
        {
            var federationPort = FreeLoopbackPort();
            serverName = "localhost:" + federationPort.ToString(CultureInfo.InvariantCulture);
            start.Environment["CONDUIT_FEDERATION_LISTENER"] = "true";
            start.Environment["CONDUIT_FEDERATION_PORT"] = federationPort.ToString(CultureInfo.InvariantCulture);
            start.Environment["CONDUIT_FEDERATION_VERIFY_CERTIFICATES"] = "false";
            start.Environment["CONDUIT_FEDERATION_IP_RANGE_BLACKLIST"] = "";
            start.Environment["CONDUIT_TRUSTED_SERVERS"] = "";
        }

        start.Environment["CONDUIT_SERVER_NAME"] = serverName;
        start.Environment["CONDUIT_ADDRESS"] = "127.0.0.1";
        start.Environment["CONDUIT_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["CONDUIT_DATABASE_PATH"] = data;
        start.Environment["CONDUIT_RATE_LIMITING"] = "false";
        start.Environment["CONDUIT_ALLOW_REGISTRATION"] = "true";
        start.Environment["CONDUIT_ALLOW_FEDERATION"] = federate ? "true" : "false";
        start.Environment["CONDUIT_DURABILITY"] = durability;
        start.Environment["CONDUIT_LOG"] = "warn";

        var stopwatch = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new BenchException($"could not start {binary}");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"), data, serverName);
        process.OutputDataReceived += (_, e) => server.KeepOutput(e.Data);
        process.ErrorDataReceived += (_, e) => server.KeepOutput(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilAnsweringAsync(cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        server.StartupTime = stopwatch.Elapsed;
        return server;
    }

    /// <summary>VmRSS and VmHWM from <c>/proc/&lt;pid&gt;/status</c>.</summary>
    public MemoryUsage ReadMemory()
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = KilobytesField(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                peak = KilobytesField(line);
        }

        return new MemoryUsage(rss, peak);
    }

    /// <summary>The server's user plus system CPU time so far, from <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    public TimeSpan ReadCpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // The command name in parentheses may hold spaces; the numbered fields start after its ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
    }

    /// <summary>Stops the server as a service manager would: SIGTERM, then a kill if it lingers.</summary>
    public async Task<int?> StopAsync()
    {
        if (_process.HasExited)
            return _process.ExitCode;
        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return null;
        }
    }

    /// <summary>The last lines the server wrote, for an error report.</summary>
    public string OutputTail()
    {
        lock (_outputTail)
            return string.Join(Environment.NewLine, _outputTail);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await StopAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // The server died before it created its data directory.
        }
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            if (_process.HasExited)
                throw new BenchException($"the server exited with {_process.ExitCode} before answering:{Environment.NewLine}{OutputTail()}");
            try
            {
                using var response = await http.GetAsync(new Uri("_matrix/client/versions", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new BenchException($"the server did not answer /_matrix/client/versions within a minute:{Environment.NewLine}{OutputTail()}");
    }

    private void KeepOutput(string? line)
    {
        if (line is null)
            return;
        lock (_outputTail)
        {
            _outputTail.Enqueue(line);
            if (_outputTail.Count > 50)
                _outputTail.Dequeue();
        }
    }

    private static long KilobytesField(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>
    /// A port the OS just handed out and we released. Another process could take it before the
    /// server binds it; on a benchmark machine that race is theoretical, and the server would say so.
    /// </summary>
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>A benchmark step that could not run: a request refused, the server gone, a timeout.</summary>
internal sealed class BenchException(string message) : Exception(message);
