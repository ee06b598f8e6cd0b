using System.CommandLine;
using System.Globalization;
using Conduit.Net.Services.Users;

namespace Conduit.Net.Cli;

/// <summary>
/// <c>token create|list|revoke</c>: registration tokens (<c>m.login.registration_token</c>),
/// offline on the data directory of a stopped server, through the Users service.
/// </summary>
internal static class TokenCommand
{
    public static Command Create(Verbs verbs)
    {
        var command = new Command("token", "Manage registration tokens (offline: stop the server first)");
        command.Subcommands.Add(CreateCreate(verbs));
        command.Subcommands.Add(CreateList(verbs));
        command.Subcommands.Add(CreateRevoke(verbs));
        return command;
    }

    private static Command CreateCreate(Verbs verbs)
    {
        var uses = new Option<int?>("--uses") { Description = "How many registrations it allows (default: unlimited)", HelpName = "N" };
        var expires = new Option<string?>("--expires")
        {
            Description = "When it stops working: a duration from now (30m, 12h, 7d) or a time (2026-12-31T23:00:00Z); default never",
            HelpName = "WHEN",
        };
        var token = new Option<string?>("--token") { Description = "The token text (default: 16 random characters)", HelpName = "TOKEN" };
        var command = new Command("create", "Create a registration token and print it") { uses, expires, token };
        command.SetAction(parse =>
        {
            DateTimeOffset? expiry = null;
            if (parse.GetValue(expires) is { } text)
            {
                if (!TryParseExpiry(text, DateTimeOffset.UtcNow, out var parsed))
                    return verbs.Console.Fail($"--expires: '{text}' is neither a duration (30m, 12h, 7d) nor an ISO 8601 time");
                expiry = parsed;
            }
            return verbs.WithUsers(parse, users =>
            {
                var created = users.RegistrationTokens.Create(parse.GetValue(token), parse.GetValue(uses), expiry);
                verbs.Console.Out.WriteLine(created.Token);
                return 0;
            });
        });
        return command;
    }

    private static Command CreateList(Verbs verbs)
    {
        var command = new Command("list", "List registration tokens with their uses, expiry and state");
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
            var tokens = users.RegistrationTokens.List();
            if (tokens.Count == 0)
                verbs.Console.Out.WriteLine("No registration tokens");
            foreach (var t in tokens)
            {
                var allowed = t.UsesAllowed is { } n ? n.ToString(CultureInfo.InvariantCulture) : "unlimited";
                var expiry = t.Expiry is { } e ? "expires " + e.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "never expires";
                var state = t.Revoked ? "revoked" : t.Valid ? "valid" : "used up or expired";
                verbs.Console.Out.WriteLine($"{t.Token}  {t.Completed}/{allowed} uses  {expiry}  {state}");
            }
            return 0;
        }));
        return command;
    }

    private static Command CreateRevoke(Verbs verbs)
    {
        var tokenArgument = new Argument<string>("TOKEN") { Description = "The token to revoke" };
        var command = new Command("revoke", "Revoke a registration token; it is kept, so registration stays token-only") { tokenArgument };
        command.SetAction(parse => verbs.WithUsers(parse, users =>
        {
            var token = parse.GetRequiredValue(tokenArgument);
            if (!users.RegistrationTokens.Revoke(token))
                return verbs.Console.Fail($"no registration token '{token}'");
            verbs.Console.Out.WriteLine($"Revoked {token}");
            return 0;
        }));
        return command;
    }

    /// <summary>A duration from <paramref name="now"/> (<c>30m</c>, <c>12h</c>, <c>7d</c>) or an absolute ISO 8601 time.</summary>
    internal static bool TryParseExpiry(string text, DateTimeOffset now, out DateTimeOffset expiry)
    {
        expiry = default;
        if (text.Length >= 2
            && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
            && amount > 0)
        {
            TimeSpan? span = text[^1] switch
            {
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (span is { } s)
            {
                expiry = now + s;
                return true;
            }
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out expiry);
    }
}
