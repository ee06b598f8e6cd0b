using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// A user id <c>@localpart:server</c> (appendix "User Identifiers"). Parsing accepts the historical
/// localparts that rooms still carry (any code point but <c>:</c> and NUL, even empty); new accounts
/// must use the current grammar, see <see cref="IsValidNewLocalpart"/> and <see cref="TryCreateNew"/>.
/// </summary>
public sealed record UserId
{
    public const char Sigil = '@';

    private static readonly SearchValues<char> CurrentLocalpartCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789._=-/+");

    private UserId(string value, string localpart, ServerName server)
    {
        Value = value;
        Localpart = localpart;
        Server = server;
    }

    public string Value { get; }

    public string Localpart { get; }

    public ServerName Server { get; }

    /// <summary>
    /// False for a historical id whose localpart is empty or has characters outside U+0021..U+007E; the
    /// spec says servers should not forward those to clients outside the context of an event.
    /// </summary>
    public bool IsCompliant => Localpart.Length > 0 && Localpart.All(c => c is >= '\u0021' and <= '\u007e');

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out UserId? userId)
    {
        userId = null;
        if (!IdentifierRules.TrySplit(value, Sigil, out var localpart, out var server))
            return false;
        userId = new UserId(value!, localpart, server!);
        return true;
    }

    public static UserId Parse(string value) =>
        TryParse(value, out var userId) ? userId : throw new FormatException($"\"{value}\" is not a valid user id.");

    /// <summary>Whether a new account may use this localpart: non-empty and only <c>a-z 0-9 . _ = - / +</c>.</summary>
    public static bool IsValidNewLocalpart(string localpart) =>
        localpart.Length > 0 && !localpart.AsSpan().ContainsAnyExcept(CurrentLocalpartCharacters);

    /// <summary>The id of a new account: the current localpart grammar, and at most 255 bytes in all.</summary>
    public static bool TryCreateNew(string localpart, ServerName server, [NotNullWhen(true)] out UserId? userId)
    {
        userId = null;
        if (!IsValidNewLocalpart(localpart))
            return false;
        var value = $"{Sigil}{localpart}:{server.Value}";
        if (!IdentifierRules.FitsLength(value))
            return false;
        userId = new UserId(value, localpart, server);
        return true;
    }

    public override string ToString() => Value;
}
