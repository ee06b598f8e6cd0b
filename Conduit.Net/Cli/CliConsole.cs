using System.Collections;

namespace Conduit.Net.Cli;

/// <summary>
/// What a verb may touch of the outside world: standard streams and the environment. The process
/// passes its own; tests pass captured writers and a chosen environment.
/// </summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error, IReadOnlyDictionary<string, string> Environment)
{
    public static CliConsole FromProcess()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        return new CliConsole(Console.In, Console.Out, Console.Error, environment);
    }

    /// <summary>Reports a failure as the one line a user sees, and gives the exit code for it.</summary>
    public int Fail(string message)
    {
        Error.WriteLine("error: " + message);
        return 1;
    }
}
