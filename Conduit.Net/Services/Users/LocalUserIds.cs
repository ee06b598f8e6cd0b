using System.Text;

namespace Conduit.Net.Services.Users;

/// <summary>
/// The localpart rules for accounts created on this server (the spec's user id grammar, appendices
/// "User Identifiers"): lower-case <c>a-z 0-9 . _ = - / +</c>, and the whole <c>@local:server</c> at
/// most 255 bytes.
/// </summary>
internal static class LocalUserIds
{
    private const int MaxUserIdBytes = 255;

    /// <summary>
    /// Names kept for the server itself: <c>conduit</c> is the server's own user in Conduit, which
    /// the admin room will use. Registering one is answered like a taken name.
    /// </summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { "conduit" };

    public static string Format(string localpart, string serverName) => $"@{localpart}:{serverName}";

    public static bool IsValidLocalpart(string localpart, string serverName)
    {
        if (localpart.Length == 0)
            return false;
        foreach (var c in localpart)
        {
            var allowed = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '=' or '-' or '/' or '+';
            if (!allowed)
                return false;
        }
        return Encoding.UTF8.GetByteCount(Format(localpart, serverName)) <= MaxUserIdBytes;
    }

    /// <summary>
    /// The local user id a login identifier names: a full user id on this server or a bare localpart.
    /// Localparts are matched case-insensitively (ASCII), as Synapse does, because registration only
    /// ever creates lower-case ones. Null when the identifier cannot name a local user.
    /// </summary>
    public static string? FromIdentifier(string identifier, string serverName)
    {
        var localpart = identifier;
        if (identifier.StartsWith('@'))
        {
            var colon = identifier.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || !string.Equals(identifier[(colon + 1)..], serverName, StringComparison.OrdinalIgnoreCase))
                return null;
            localpart = identifier[1..colon];
        }
        localpart = localpart.ToLowerInvariant();
        return IsValidLocalpart(localpart, serverName) ? Format(localpart, serverName) : null;
    }
}
