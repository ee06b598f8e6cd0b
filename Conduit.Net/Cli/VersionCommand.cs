using System.CommandLine;

namespace Conduit.Net.Cli;

/// <summary><c>version</c>: the version and the commit it was built from.</summary>
internal static class VersionCommand
{
    public static Command Create(Verbs verbs)
    {
        var command = new Command("version", "Print the version");
        command.SetAction(_ => verbs.Console.Out.WriteLine("conduit-net " + CommandLine.Version));
        return command;
    }
}
