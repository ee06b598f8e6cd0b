using System.Text.Json.Nodes;

namespace Conduit.Net.Services.AccountData;

/// <summary>
/// The users a user ignores ("Ignoring Users"): the keys of <c>ignored_users</c> in their global
/// <c>m.ignored_user_list</c> account data, read afresh on every request so that a change takes
/// effect at once, as the spec asks of sync.
/// </summary>
public sealed class IgnoredUsers
{
    public const string ListType = "m.ignored_user_list";

    private readonly AccountDataService _accountData;

    public IgnoredUsers(AccountDataService accountData) => _accountData = accountData;

    /// <summary>The ignored user ids (empty when the list is unset or has no <c>ignored_users</c> object).</summary>
    public IReadOnlySet<string> Of(string userId) =>
        _accountData.Read(userId, null, ListType)?["ignored_users"] is JsonObject ignored
            ? ignored.Select(p => p.Key).ToHashSet(StringComparer.Ordinal)
            : EmptySet;

    private static readonly HashSet<string> EmptySet = new(StringComparer.Ordinal);
}
