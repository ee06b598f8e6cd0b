using System.CommandLine;
using Conduit.Net.Config;

namespace Conduit.Net.Cli;

/// <summary><c>config init [PATH]</c> writes the commented example; <c>config check</c> validates and summarises.</summary>
internal static class ConfigCommand
{
    private const string DefaultPath = "conduit.toml";

    public static Command Create(Verbs verbs)
    {
        var command = new Command("config", "Write or check a config file");
        command.Subcommands.Add(CreateInit(verbs));
        command.Subcommands.Add(CreateCheck(verbs));
        return command;
    }

    private static Command CreateInit(Verbs verbs)
    {
        var path = new Argument<string>("PATH")
        {
            Description = "Where to write the config",
            DefaultValueFactory = _ => DefaultPath,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var command = new Command("init", "Write the commented example config (every key with its default)") { path, force };
        command.SetAction(parse => Init(verbs.Console, parse.GetRequiredValue(path), parse.GetValue(force)));
        return command;
    }

    private static Command CreateCheck(Verbs verbs)
    {
        var command = new Command("check", "Validate the config (--config, else $CONDUIT_CONFIG, else the defaults) and print what the server would run with");
        command.SetAction(parse => Check(verbs, parse));
        return command;
    }

    private static int Init(CliConsole console, string path, bool force)
    {
        try
        {
            // CreateNew makes the refusal atomic: nothing can appear between a check and the write.
            using var stream = new FileStream(path, force ? FileMode.Create : FileMode.CreateNew, FileAccess.Write);
            using var writer = new StreamWriter(stream);
            writer.Write(ExampleConfig.Text);
        }
        catch (IOException) when (!force && File.Exists(path))
        {
            return console.Fail($"{path} already exists; pass --force to overwrite it");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return console.Fail($"cannot write {path}: {e.Message}");
        }
        console.Out.WriteLine($"Wrote {path}. Set server_name in it, then run: conduit-net --config {path}");
        return 0;
    }

    private static int Check(Verbs verbs, ParseResult parse)
    {
        var config = verbs.LoadConfig(parse);
        if (config is null)
            return 1;
        var path = verbs.ConfigPath(parse);
        var output = verbs.Console.Out;
        output.WriteLine(path is null ? "Config OK: embedded defaults (no config file)" : $"Config OK: {path}");
        foreach (var key in ConfigKeys.All)
        {
            var value = key.Secret && key.Show(config) != ConfigKey.Unset ? "(set, hidden)" : key.Show(config);
            output.WriteLine($"  {key.TomlName} = {value}");
        }
        return 0;
    }
}
