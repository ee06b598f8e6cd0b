using System.Diagnostics;
using System.Text.Json.Nodes;
using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Cli;

/// <summary><c>serve</c>, the default verb: it starts the real server from config, or refuses with one line.</summary>
public sealed class ServeTests
{
    // Guards against a hang when a refusal regresses into a running server; never a speed assertion.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private string _dir = null!;

    [SetUp]
    public void CreateDirectory() => _dir = CliRunner.TempDirectory();

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    private Dictionary<string, string> Environment(int port) => new()
    {
        ["CONDUIT_PORT"] = port.ToString(),
        ["CONDUIT_DATABASE_PATH"] = Path.Combine(_dir, "data"),
        ["CONDUIT_LOG"] = "warn",
    };

    [Test]
    public async Task With_no_verb_and_no_config_file_it_serves_versions_on_the_embedded_defaults()
    {
        var port = CliRunner.FreePort();
        using var stop = new CancellationTokenSource(HangGuard);

        var serving = CliRunner.RunAsync([], Environment(port), cancellationToken: stop.Token);
        var (status, body) = await GetVersionsAsync(port, serving);
        await stop.CancelAsync();
        var result = await serving;

        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?["versions"]?.AsArray().Select(v => (string?)v), Does.Contain("v1.1"));
        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(Directory.Exists(Path.Combine(_dir, "data")), Is.True, "the data directory came from the config");
    }

    [Test]
    public async Task Serve_reads_its_config_file_from_the_option()
    {
        var port = CliRunner.FreePort();
        var path = Path.Combine(_dir, "conduit.toml");
        File.WriteAllText(path, $"[global]\nserver_name = \"example.org\"\nport = {port}\ndatabase_path = \"{Path.Combine(_dir, "data").Replace("\\", "\\\\", StringComparison.Ordinal)}\"\nlog = \"warn\"\n");
        using var stop = new CancellationTokenSource(HangGuard);

        var serving = CliRunner.RunAsync(["serve", "--config", path], cancellationToken: stop.Token);
        var (status, _) = await GetVersionsAsync(port, serving);
        await stop.CancelAsync();
        var result = await serving;

        Assert.That(status, Is.EqualTo(200));
        Assert.That(result.ExitCode, Is.Zero, result.Error);
    }

    [TestCase("CONDUIT_PORT", "http", "CONDUIT_PORT: expected an integer")]
    [TestCase("CONDUIT_ADDRESS", "0.0.0.0", "registration is open to anyone")]
    [TestCase("CONDUIT_SERVER_NAME", "no spaces allowed", "is not a valid server name")]
    public async Task A_bad_config_prints_one_line_and_exits_non_zero_before_anything_starts(string name, string value, string expected)
    {
        var environment = Environment(CliRunner.FreePort());
        environment[name] = value;
        using var guard = new CancellationTokenSource(HangGuard);

        var result = await CliRunner.RunAsync(["serve"], environment, cancellationToken: guard.Token);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain(expected));
        Assert.That(Directory.Exists(Path.Combine(_dir, "data")), Is.False, "nothing started");
    }

    [Test]
    public async Task A_data_directory_held_by_a_running_server_is_one_error_line()
    {
        using var running = KvStore.Open(Path.Combine(_dir, "data"));
        using var guard = new CancellationTokenSource(HangGuard);

        var result = await CliRunner.RunAsync(["serve"], Environment(CliRunner.FreePort()), cancellationToken: guard.Token);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain("is in use by a running server"));
    }

    [Test]
    public async Task Data_from_a_newer_release_is_one_error_line()
    {
        static void Nothing(KvStore store, WriteBatch batch)
        {
        }

        var newer = new KvStoreOptions { Migrations = [.. Enumerable.Range(1, StoreSchema.Migrations.Count + 1).Select(v => new SchemaMigration(v, "step", Nothing))] };
        KvStore.Open(Path.Combine(_dir, "data"), newer).Dispose();
        using var guard = new CancellationTokenSource(HangGuard);

        var result = await CliRunner.RunAsync(["serve"], Environment(CliRunner.FreePort()), cancellationToken: guard.Token);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain("newer release"));
    }

    [Test]
    public async Task A_port_in_use_is_one_error_line()
    {
        await using var first = await TestServer.StartAsync();
        var environment = Environment(first.Host.BaseAddress.Port);
        using var guard = new CancellationTokenSource(HangGuard);

        var result = await CliRunner.RunAsync(["serve"], environment, cancellationToken: guard.Token);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain("address already in use"));
    }

    [Test]
    public async Task The_executable_stops_cleanly_on_SIGTERM()
    {
        var port = CliRunner.FreePort();
        var start = new ProcessStartInfo(System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(TestContext.CurrentContext.TestDirectory, "conduit-net.dll"));
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("CONDUIT_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var (name, value) in Environment(port))
            start.Environment[name] = value;
        start.Environment["CONDUIT_LOG"] = "info";

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        try
        {
            var (status, _) = await GetVersionsAsync(port, exited);
            Assert.That(status, Is.EqualTo(200));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
                await kill.WaitForExitAsync();
            using var guard = new CancellationTokenSource(HangGuard);
            await process.WaitForExitAsync(guard.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }

        Assert.That(process.ExitCode, Is.Zero, await error);
        var log = await output;
        Assert.That(log, Does.Contain($"listening on http://127.0.0.1:{port}/"));
        Assert.That(log, Does.Contain("Stopping"));
    }

    /// <summary>Polls until the server answers, or fails if <paramref name="serving"/> ends first.</summary>
    private static async Task<(int Status, JsonNode? Body)> GetVersionsAsync(int port, Task serving)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var attempt = 0; ; attempt++)
        {
            if (serving.IsCompleted)
                Assert.Fail($"the server exited before answering: {(serving as Task<CliResult>)?.Result}");
            try
            {
                using var response = await http.GetAsync(new Uri("/_matrix/client/versions", UriKind.Relative));
                return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync()));
            }
            catch (HttpRequestException) when (attempt < 600)
            {
                await Task.Delay(100);
            }
        }
    }
}
