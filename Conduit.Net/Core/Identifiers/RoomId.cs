using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Conduit.Net.Core.Identifiers;

/// <summary>
/// A room id (appendix "Room IDs"): <c>!opaque:server</c> in room versions 1 to 11, and from room
/// version 12 <c>!</c> followed by the create event's reference hash (43 characters of URL-safe unpadded
/// base64) with no server. Which form a room must use is the room version's business, not the parser's.
/// </summary>
public sealed record RoomId
{
    public const char Sigil = '!';

    private const int HashLength = 43;

    private static readonly SearchValues<char> UrlSafeBase64 =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private RoomId(string value, string opaque, ServerName? server)
    {
        Value = value;
        Opaque = opaque;
        Server = server;
    }

    public string Value { get; }

    /// <summary>The part after the sigil and before the colon (the whole hash for the domain-less form).</summary>
    public string Opaque { get; }

    /// <summary>The server that created the room, for the older form; null for a room version 12 id.</summary>
    public ServerName? Server { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out RoomId? roomId)
    {
        roomId = null;
        if (value is null || value.Length < 2 || value[0] != Sigil)
            return false;
        if (!value.Contains(':'))
        {
            var hash = value.AsSpan(1);
            if (hash.Length != HashLength || hash.ContainsAnyExcept(UrlSafeBase64))
                return false;
            roomId = new RoomId(value, hash.ToString(), null);
            return true;
        }
        if (!IdentifierRules.TrySplit(value, Sigil, out var opaque, out var server))
            return false;
        roomId = new RoomId(value, opaque, server);
        return true;
    }

    public static RoomId Parse(string value) =>
        TryParse(value, out var roomId) ? roomId : throw new FormatException($"\"{value}\" is not a valid room id.");

    public override string ToString() => Value;
}
