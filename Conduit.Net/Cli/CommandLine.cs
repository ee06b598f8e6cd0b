using System.CommandLine;
using System.Reflection;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Hosting;
using Conduit.Net.Services.Keys;
using Conduit.Net.Services.Profiles;
using Conduit.Net.Services.ToDevice;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Cli;

/// <summary>The command-line entry: the root command, its verbs and the options they share.</summary>
internal static class CommandLine
{
    /// <summary>How long a SIGINT/SIGTERM waits for the server to stop cleanly before the process exits anyway.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(30);

    public static Task<int> RunAsync(string[] args) => RunAsync(args, CliConsole.FromProcess(), CancellationToken.None);

    public static Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            ProcessTerminationTimeout = ShutdownGrace,
        };
        // Matrix user IDs start with '@', which System.CommandLine would read as a response file.
        var parser = new ParserConfiguration { ResponseFileTokenReplacer = null };
        return Build(console).Parse(args, parser).InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>The version with the commit it was built from, as the build stamped it.</summary>
    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private static RootCommand Build(CliConsole console)
    {
        var configOption = new Option<string?>("--config")
        {
            Description = "Path to the TOML config file (default: $CONDUIT_CONFIG, else the embedded defaults)",
            HelpName = "PATH",
            Recursive = true,
        };
        var verbs = new Verbs(console, configOption);

        var root = new RootCommand("Conduit.Net, a Matrix homeserver in one executable. With no verb it runs `serve`.");
        root.Options.Add(configOption);
        root.SetAction(verbs.ServeAsync);
        root.Subcommands.Add(ServeCommand.Create(verbs));
        root.Subcommands.Add(ConfigCommand.Create(verbs));
        root.Subcommands.Add(UserCommand.Create(verbs));
        root.Subcommands.Add(TokenCommand.Create(verbs));
        root.Subcommands.Add(VersionCommand.Create(verbs));
        return root;
    }
}

/// <summary>The context every verb's action closes over: the console and the shared <c>--config</c> option.</summary>
internal sealed class Verbs(CliConsole console, Option<string?> configOption)
{
    public CliConsole Console => console;

    public Task<int> ServeAsync(ParseResult parse, CancellationToken cancellationToken) =>
        ServeCommand.RunAsync(this, parse, cancellationToken);

    /// <summary>Where the config comes from for this invocation: <c>--config</c>, else <c>CONDUIT_CONFIG</c>, else none.</summary>
    public string? ConfigPath(ParseResult parse) => ConfigLoader.ResolvePath(parse.GetValue(configOption), console.Environment);

    /// <summary>
    /// Runs an offline verb on the Users service over the data directory the config names. The running server holds the
    /// store exclusively, so while it is up the verb fails at once and says so; a Matrix error
    /// from the service (a taken name, an unknown user) is the verb's one error line.
    /// </summary>
    public int WithUsers(ParseResult parse, Func<UserService, int> action)
    {
        var config = LoadConfig(parse);
        if (config is null)
            return 1;
        KvStore store;
        try
        {
            store = KvStore.Open(config.DatabasePath, ConduitHost.StoreOptions(config));
        }
        catch (DataDirectoryInUseException e)
        {
            return console.Fail(e.Message);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException or LiteDB.LiteException or StoreSchemaException)
        {
            return console.Fail($"cannot open the data directory {config.DatabasePath}: {e.Message}");
        }
        using (store)
        {
            try
            {
                return action(new UserService(store, config, new ProfileService(store, config), observers: [new DeviceKeyStore(store), new ToDeviceInbox(store)]));
            }
            catch (MatrixException e)
            {
                return console.Fail(e.Message);
            }
        }
    }

    /// <summary>Loads and validates the config; on failure prints the one error line and returns null.</summary>
    public ServerConfig? LoadConfig(ParseResult parse)
    {
        try
        {
            return ConfigLoader.Load(ConfigPath(parse), console.Environment);
        }
        catch (ConfigException e)
        {
            console.Fail(e.Message);
            return null;
        }
    }
}
