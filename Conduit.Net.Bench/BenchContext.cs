using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>What every workload needs: the server, a client, the sizes, and fresh user names.</summary>
internal sealed class BenchContext(ServerProcess server, MatrixClient client, Sizes sizes)
{
    private int _users;

    public ServerProcess Server { get; } = server;

    public MatrixClient Client { get; } = client;

    public Sizes Sizes { get; } = sizes;

    /// <summary>Registers a user no other workload uses; the name starts with <paramref name="prefix"/>.</summary>
    public Task<Session> NewUserAsync(string prefix, CancellationToken cancellationToken) =>
        Client.RegisterAsync(prefix + Interlocked.Increment(ref _users).ToString(CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>Registers <paramref name="count"/> users a few at a time (registration hashes a password: it is slow on purpose).</summary>
    public async Task<Session[]> NewUsersAsync(string prefix, int count, CancellationToken cancellationToken)
    {
        var users = new Session[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, ct) => users[i] = await NewUserAsync(prefix, ct));
        return users;
    }

    /// <summary>
    /// Runs <paramref name="work"/> and adds the server's and this client's CPU time, the server's
    /// RSS afterwards and the machine's load to the section: on a shared machine, CPU per unit of
    /// work and the load say how much of a wall time was this server.
    /// </summary>
    public async Task<T> MeasureServerAsync<T>(Section section, Func<Task<T>> work)
    {
        var cpuBefore = Server.ReadCpuTime();
        var clientCpuBefore = Environment.CpuUsage.TotalTime;
        var result = await work();
        var cpu = Server.ReadCpuTime() - cpuBefore;
        section.Detail("server_cpu_seconds", Math.Round(cpu.TotalSeconds, 2));
        section.Detail("bench_client_cpu_seconds", Math.Round((Environment.CpuUsage.TotalTime - clientCpuBefore).TotalSeconds, 2));
        section.Detail("server_rss_after_mb", Math.Round(Server.ReadMemory().Rss / 1048576.0, 1));
        section.Detail("load_average_after", MachineInfo.LoadAverage());
        return result;
    }

    public static JsonObject PublicRoom(string? name = null)
    {
        var body = new JsonObject { ["preset"] = "public_chat" };
        if (name is not null)
            body["name"] = name;
        return body;
    }

    public static JsonObject PrivateRoom() => new() { ["preset"] = "private_chat" };

    public static void Progress(string text) =>
        Console.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {text}");

    public static double Seconds(long fromTimestamp) => Stopwatch.GetElapsedTime(fromTimestamp).TotalSeconds;
}
