using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Identifiers;

/// <summary>A room alias <c>#alias:server</c> (appendix "Room Aliases").</summary>
public sealed record RoomAlias
{
    public const char Sigil = '#';

    private RoomAlias(string value, string alias, ServerName server)
    {
        Value = value;
        Alias = alias;
        Server = server;
    }

    public string Value { get; }

    /// <summary>The localpart: any code point but <c>:</c> and NUL.</summary>
    public string Alias { get; }

    /// <summary>The server that allocated the alias, and the one to ask to resolve it.</summary>
    public ServerName Server { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out RoomAlias? alias)
    {
        alias = null;
        if (!IdentifierRules.TrySplit(value, Sigil, out var localpart, out var server))
            return false;
        alias = new RoomAlias(value!, localpart, server!);
        return true;
    }

    public static RoomAlias Parse(string value) =>
        TryParse(value, out var alias) ? alias : throw new FormatException($"\"{value}\" is not a valid room alias.");

    public override string ToString() => Value;
}
