using System.CommandLine;
using System.Security.Cryptography;
using Conduit.Net.Services.Users;

namespace Conduit.Net.Cli;

/// <summary>
/// <c>user create|reset-password|deactivate|list</c>: offline account administration on the data
/// directory of a stopped server, through the Users service.
/// </summary>
internal static class UserCommand
{
    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    public static Command Create(Verbs verbs)
    {
        var command = new Command("user", "Manage accounts (offline: stop the server first)");
        command.Subcommands.Add(CreateCreate(verbs));
        command.Subcommands.Add(CreateResetPassword(verbs));
        command.Subcommands.Add(CreateDeactivate(verbs));
        command.Subcommands.Add(CreateList(verbs));
        return command;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "A localpart (alice) or a full user ID (@alice:example.org)" };

    private static Option<bool> PasswordStdinOption() => new("--password-stdin")
    {
        Description = "Read the password from standard input instead of generating and printing one",
    };

    private static Command CreateCreate(Verbs verbs)
    {
        var name = NameArgument();
        var admin = new Option<bool>("--admin") { Description = "Make the account a server admin (the first account always is)" };
        var passwordStdin = PasswordStdinOption();
        var command = new Command("create", "Create an account") { name, admin, passwordStdin };
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
            if (!TryGetPassword(verbs.Console, parse.GetValue(passwordStdin), out var password, out var generated))
                return 1;
            var userId = users.CreateUser(parse.GetRequiredValue(name), password, parse.GetValue(admin));
            var isAdmin = users.ListUsers().Any(u => u.UserId == userId && u.Admin);
            verbs.Console.Out.WriteLine($"Created {userId}{(isAdmin ? " (admin)" : "")}");
            if (generated)
                verbs.Console.Out.WriteLine($"Password: {password}");
            return 0;
        }));
        return command;
    }

    private static Command CreateResetPassword(Verbs verbs)
    {
        var name = NameArgument();
        var passwordStdin = PasswordStdinOption();
        var command = new Command("reset-password", "Set a new password and log out all of the account's devices") { name, passwordStdin };
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
            if (!TryGetPassword(verbs.Console, parse.GetValue(passwordStdin), out var password, out var generated))
                return 1;
            var userId = users.ResetPassword(parse.GetRequiredValue(name), password);
            verbs.Console.Out.WriteLine($"Reset the password of {userId}; its devices are logged out");
            if (generated)
                verbs.Console.Out.WriteLine($"Password: {password}");
            return 0;
        }));
        return command;
    }

    private static Command CreateDeactivate(Verbs verbs)
    {
        var name = NameArgument();
        var command = new Command("deactivate", "Deactivate an account for good: no login, devices logged out, the name never reused") { name };
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
                        var user = parse.GetRequiredValue(name);
            users.Deactivate(user);
            verbs.Console.Out.WriteLine($"Deactivated {user}");
            return 0;
        }));
        return command;
    }

    private static Command CreateList(Verbs verbs)
    {
        var command = new Command("list", "List every account, deactivated ones included");
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
            var accounts = users.ListUsers();
            if (accounts.Count == 0)
                verbs.Console.Out.WriteLine("No accounts yet");
            foreach (var user in accounts)
            {
                var flags = string.Join(", ", new[] { user.Admin ? "admin" : null, user.Deactivated ? "deactivated" : null }.OfType<string>());
                verbs.Console.Out.WriteLine(flags.Length == 0 ? user.UserId : $"{user.UserId} ({flags})");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The password from standard input (one line, its line ending dropped), or a generated one that
    /// the caller prints once: nothing is prompted, so the verbs work the same in scripts.
    /// </summary>
    private static bool TryGetPassword(CliConsole console, bool fromStdin, out string password, out bool generated)
    {
        generated = !fromStdin;
        if (!fromStdin)
        {
            password = RandomNumberGenerator.GetString(PasswordAlphabet, 20);
            return true;
        }
        password = (console.In.ReadLine() ?? "").TrimEnd('\r');
        if (password.Length > 0)
            return true;
        console.Fail("--password-stdin: standard input held no password");
        return false;
    }
}
