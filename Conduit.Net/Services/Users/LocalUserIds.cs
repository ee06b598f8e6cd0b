using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Users;

/// <summary>
/// Local user ids: the current localpart grammar for new accounts (through <see cref="UserId"/>),
/// the names kept for the server, and how a login identifier names a local user.
/// </summary>
internal static class LocalUserIds
{
    /// <summary>
    /// Names kept for the server itself: <c>conduit</c> is the server's own user in Conduit, which
    /// the admin room will use. Registering one is answered like a taken name.
    /// </summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { "conduit" };

    /// <summary>The id a new account with this localpart gets, or null when the localpart is not allowed.</summary>
    public static string? New(string localpart, ServerName server) =>
        UserId.TryCreateNew(localpart, server, out var userId) ? userId.Value : null;

    /// <summary>
    /// The local user id a login identifier names: a full user id on this server or a bare localpart.
    /// Localparts are matched case-insensitively (ASCII), as Synapse does, because registration only
    /// ever creates lower-case ones. Null when the identifier cannot name a local user.
    /// </summary>
    public static string? FromIdentifier(string identifier, ServerName server)
    {
        var localpart = identifier;
        if (identifier.StartsWith(UserId.Sigil))
        {
            if (!UserId.TryParse(identifier, out var parsed) || !string.Equals(parsed.Server.Value, server.Value, StringComparison.OrdinalIgnoreCase))
                return null;
            localpart = parsed.Localpart;
        }
        return New(localpart.ToLowerInvariant(), server);
    }
}
