using System.Runtime.InteropServices;

namespace Conduit.Net.Bench;

/// <summary>The command line: which server binary, where the JSON goes, how big, which workloads.</summary>
internal sealed record BenchOptions(
    string ServerPath,
    string OutPath,
    bool Quick,
    IReadOnlySet<string> Only,
    string Durability,
    string? RomeoAndJulietPath)
{
    public const string RomeoAndJuliet = "romeo-juliet";
    public const string Send = "send";
    public const string Latency = "latency";
    public const string InitialSync = "initial-sync";
    public const string BigJoin = "bigjoin";

    /// <summary>Every workload, in the order they run.</summary>
    public static readonly string[] Workloads = [RomeoAndJuliet, Send, Latency, InitialSync, BigJoin];

    /// <summary>Workloads that run only when named: filling a 10,000-member room alone takes minutes.</summary>
    private static readonly string[] OnRequest = [BigJoin];

    public const string Usage =
        """
        conduit-net-bench: starts a published conduit-net binary on loopback and measures it.

          --server PATH        the published conduit-net binary (default: artifacts/<rid>/conduit-net)
          --out PATH           where the results go as JSON (default: artifacts/bench/results.json)
          --quick              small sizes, for a smoke run of every workload
          --only NAME[,NAME]   run only these workloads: romeo-juliet, send, latency, initial-sync,
                               bigjoin (two federating servers; runs only when named here)
          --durability MODE    the server's durability setting: safe (default) or fast
          --play PATH          the Romeo and Juliet text (default: found next to the repository)

        `dotnet tool run pwsh build.ps1 bench [options]` publishes the server and passes --server.
        """;

    public bool Runs(string workload) => Only.Contains(workload) || (Only.Count == 0 && !OnRequest.Contains(workload));

    /// <summary>Parses the arguments; on a mistake prints why and the usage, and returns null.</summary>
    public static BenchOptions? Parse(string[] args)
    {
        string? server = null;
        var outPath = Path.Combine("artifacts", "bench", "results.json");
        var quick = false;
        var only = new HashSet<string>(StringComparer.Ordinal);
        var durability = "safe";
        string? play = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            try
            {
                switch (arg)
                {
                    case "--server": server = Value(); break;
                    case "--out": outPath = Value(); break;
                    case "--quick": quick = true; break;
                    case "--only":
                        foreach (var name in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                            only.Add(Array.IndexOf(Workloads, name) >= 0 ? name : throw new ArgumentException($"unknown workload {name}"));
                        break;
                    case "--durability":
                        durability = Value() is "safe" or "fast" ? args[i] : throw new ArgumentException("--durability is safe or fast");
                        break;
                    case "--play": play = Value(); break;
                    case "-h" or "--help":
                        Console.WriteLine(Usage);
                        return null;
                    default: throw new ArgumentException($"unknown argument {arg}");
                }
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                Console.Error.WriteLine(Usage);
                return null;
            }
        }

        server ??= DefaultServerPath();
        if (!File.Exists(server))
        {
            Console.Error.WriteLine($"error: no server binary at {server}; publish it first (build.ps1 bench does) or pass --server");
            return null;
        }

        return new BenchOptions(Path.GetFullPath(server), Path.GetFullPath(outPath), quick, only, durability, play);
    }

    private static string DefaultServerPath()
    {
        var rid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        return Path.Combine("artifacts", rid, "conduit-net");
    }
}
