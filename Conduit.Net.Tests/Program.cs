using Conduit.Net.Tests.Storage;

namespace Conduit.Net.Tests;

/// <summary>
/// Entry point for the child processes some tests start (<c>dotnet Conduit.Net.Tests.dll ROLE ...</c>);
/// <c>dotnet test</c> never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args) => args switch
    {
        [CrashWriter.Role, var directory] => CrashWriter.Run(directory),
        [LockHolder.Role, var directory] => LockHolder.Run(directory),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine($"usage: Conduit.Net.Tests ({CrashWriter.Role}|{LockHolder.Role}) DIRECTORY");
        return 2;
    }
}
