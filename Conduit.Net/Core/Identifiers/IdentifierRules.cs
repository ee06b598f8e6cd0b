using System.Text;

namespace Conduit.Net.Core.Identifiers;

/// <summary>Rules shared by the sigil identifiers of the appendix "Identifier Grammar".</summary>
internal static class IdentifierRules
{
    /// <summary>User ids, room ids, room aliases and event ids, sigil and domain included, are at most 255 bytes.</summary>
    public const int MaxBytes = 255;

    public static bool FitsLength(string value) => Encoding.UTF8.GetByteCount(value) <= MaxBytes;

    /// <summary>
    /// The historical localpart grammar shared by user ids, room ids and aliases: any non-surrogate code
    /// point except <c>:</c> and NUL. A C# string encodes that as well-formed UTF-16 without those two.
    /// </summary>
    public static bool IsOpaqueLocalpart(ReadOnlySpan<char> localpart) =>
        !localpart.ContainsAny(':', '\0') && IsWellFormedUtf16(localpart);

    public static bool IsWellFormedUtf16(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }
        return true;
    }

    /// <summary>
    /// Splits <c>&amp;localpart:domain</c> at the first colon (localparts never contain one; server names
    /// may, before a port) and checks the sigil, the localpart grammar, the server name and the length.
    /// </summary>
    public static bool TrySplit(string? value, char sigil, out string localpart, out ServerName? server)
    {
        localpart = "";
        server = null;
        if (value is null || value.Length < 2 || value[0] != sigil || !FitsLength(value))
            return false;
        var colon = value.IndexOf(':', 1);
        if (colon < 0)
            return false;
        var local = value.AsSpan(1, colon - 1);
        if (!IsOpaqueLocalpart(local) || !ServerName.TryParse(value[(colon + 1)..], out server))
            return false;
        localpart = local.ToString();
        return true;
    }
}
