using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// An event id (appendix "Event IDs"): <c>$opaque:server</c> in room versions 1 and 2, <c>$</c> plus a
/// base64 reference hash from version 3 on. The parser accepts either; the room version decides which
/// one an event of a given room must have.
/// </summary>
public sealed record EventId
{
    public const char Sigil = '$';

    private EventId(string value, ServerName? server)
    {
        Value = value;
        Server = server;
    }

    public string Value { get; }

    /// <summary>The server that minted the id, for the room version 1 and 2 form; null otherwise.</summary>
    public ServerName? Server { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out EventId? eventId)
    {
        eventId = null;
        if (value is null || value.Length < 2 || value[0] != Sigil)
            return false;
        if (value.Contains(':'))
        {
            if (!IdentifierRules.TrySplit(value, Sigil, out var opaque, out var server) || opaque.Length == 0)
                return false;
            eventId = new EventId(value, server);
            return true;
        }
        if (!IdentifierRules.FitsLength(value) || !IdentifierRules.IsOpaqueLocalpart(value.AsSpan(1)))
            return false;
        eventId = new EventId(value, null);
        return true;
    }

    public static EventId Parse(string value) =>
        TryParse(value, out var eventId) ? eventId : throw new FormatException($"\"{value}\" is not a valid event id.");

    public override string ToString() => Value;
}
