using Conduit.Net.Config;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Users;

/// <summary>A managed registration token as the CLI lists it.</summary>
public sealed record RegistrationTokenInfo(string Token, int? UsesAllowed, int Completed, DateTimeOffset? Expiry, bool Revoked, bool Valid);

/// <summary>
/// Registration tokens (the spec's <c>m.login.registration_token</c>): the static one from the
/// config, which never runs out, and managed ones with a use limit and an expiry. A use is counted
/// when the registration commits, in the same batch, so a token with one use registers one user
/// however many clients race for it. Registration requires a token as soon as the config sets one or
/// any managed token was ever created; revoked tokens are kept so that revoking the last one does not
/// silently open registration.
/// </summary>
public sealed class RegistrationTokenService
{
    private const int MaxTokenLength = 64;

    private readonly AccountStore _store;
    private readonly ServerConfig _config;
    private readonly TimeProvider _time;

    internal RegistrationTokenService(AccountStore store, ServerConfig config, TimeProvider time)
    {
        _store = store;
        _config = config;
        _time = time;
    }

    /// <summary>Whether registration asks for a token.</summary>
    public bool Required => _config.RegistrationToken is not null || _store.AnyRegistrationToken();

    /// <summary>Whether <paramref name="token"/> would register an account now.</summary>
    public bool IsValid(string token)
    {
        if (_config.RegistrationToken is { } configured && Secrets.FixedTimeEquals(token, configured))
            return true;
        return IsWellFormed(token) && _store.GetRegistrationToken(token) is { } record && Usable(record);
    }

    /// <summary>
    /// Creates a managed token: <paramref name="token"/> or a random one, usable
    /// <paramref name="usesAllowed"/> times (null: unlimited) until <paramref name="expiry"/> (null: never).
    /// </summary>
    public RegistrationTokenInfo Create(string? token, int? usesAllowed, DateTimeOffset? expiry)
    {
        if (token is not null && !IsWellFormed(token))
            throw MatrixException.InvalidParam($"A registration token is 1 to {MaxTokenLength} characters of A-Z a-z 0-9 . _ ~ -.");
        if (usesAllowed is < 1)
            throw MatrixException.InvalidParam("uses_allowed must be at least 1.");
        var now = _time.GetUtcNow();
        if (expiry is { } e && e <= now)
            throw MatrixException.InvalidParam("The expiry time must be in the future.");
        lock (_store.Gate)
        {
            token ??= NewToken();
            if (_store.GetRegistrationToken(token) is not null)
                throw MatrixException.InvalidParam("That registration token already exists.");
            var record = new RegistrationTokenRecord(usesAllowed, 0, expiry?.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds(), Revoked: false);
            var batch = new AccountBatch();
            _store.PutRegistrationToken(batch, token, record);
            _store.Commit(batch);
            return Info(token, record);
        }
    }

    /// <summary>Every managed token, revoked and used-up ones included.</summary>
    public IReadOnlyList<RegistrationTokenInfo> List() => [.. _store.AllRegistrationTokens().Select(t => Info(t.Token, t.Record))];

    /// <summary>Revokes a managed token; false when there is no such token.</summary>
    public bool Revoke(string token)
    {
        lock (_store.Gate)
        {
            if (_store.GetRegistrationToken(token) is not { } record)
                return false;
            var batch = new AccountBatch();
            _store.PutRegistrationToken(batch, token, record with { Revoked = true });
            _store.Commit(batch);
            return true;
        }
    }

    /// <summary>
    /// Stages one use of the token with the registration it allows; false when it is no longer valid.
    /// Call under the store's gate so that the check and the count are one step.
    /// </summary>
    internal bool TryConsume(AccountBatch batch, string token)
    {
        if (_config.RegistrationToken is { } configured && Secrets.FixedTimeEquals(token, configured))
            return true;
        if (!IsWellFormed(token) || _store.GetRegistrationToken(token) is not { } record || !Usable(record))
            return false;
        _store.PutRegistrationToken(batch, token, record with { Completed = record.Completed + 1 });
        return true;
    }

    private bool Usable(RegistrationTokenRecord record) =>
        !record.Revoked
        && (record.UsesAllowed is not { } allowed || record.Completed < allowed)
        && (record.ExpiryTs is not { } expiry || expiry > _time.GetUtcNow().ToUnixTimeMilliseconds());

    private RegistrationTokenInfo Info(string token, RegistrationTokenRecord record) => new(
        token,
        record.UsesAllowed,
        record.Completed,
        record.ExpiryTs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
        record.Revoked,
        Usable(record));

    private string NewToken()
    {
        while (true)
        {
            var token = Secrets.NewRegistrationToken();
            if (_store.GetRegistrationToken(token) is null)
                return token;
        }
    }

    private static bool IsWellFormed(string token) =>
        token.Length is > 0 and <= MaxTokenLength
        && token.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '~' or '-');
}
