using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Users;

/// <summary>What <c>/openid/request_token</c> answers; <see cref="ExpiresIn"/> in seconds.</summary>
public sealed record OpenIdToken(string AccessToken, string MatrixServerName, long ExpiresIn);

/// <summary>
/// OpenID tokens (spec "OpenID"): a user asks for one to prove who they are to a third party (a widget,
/// an integration manager), which exchanges it with this server's federation API for the user id.
/// A token is good for nothing else, lives an hour and may be exchanged any number of times until then.
/// </summary>
public sealed class OpenIdTokens(KvStore store, ServerConfig config, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private readonly KvTree _tokens = store.Tree(Trees.OpenIdTokens);

    /// <summary>A new token for the caller; 403 <c>M_FORBIDDEN</c> for another user's id.</summary>
    /// <remarks>Tokens past their expiry are removed in the same batch, so that the tree holds about an hour's worth.</remarks>
    public OpenIdToken Issue(string callerUserId, string userId)
    {
        if (callerUserId != userId)
            throw MatrixException.Forbidden("An OpenID token can only be requested for oneself.");
        var token = Secrets.NewToken();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        using var batch = new WriteBatch();
        foreach (var (key, value) in _tokens.ScanPrefix([]))
        {
            if (ExpiryOf(value) <= now)
                batch.Remove(_tokens, key);
        }
        batch.Put(_tokens, Secrets.HashToken(token), [.. KeyCodec.U64((ulong)(now + (long)Lifetime.TotalMilliseconds)), .. KeyCodec.Utf8(userId)]);
        store.Commit(batch);
        return new OpenIdToken(token, config.ServerName, (long)Lifetime.TotalSeconds);
    }

    /// <summary>The user a token was issued to; 401 <c>M_UNKNOWN_TOKEN</c> for an unknown or expired one.</summary>
    public string UserOf(string token)
    {
        if (_tokens.Get(Secrets.HashToken(token)) is not { } value || ExpiryOf(value) <= time.GetUtcNow().ToUnixTimeMilliseconds())
            throw MatrixException.UnknownToken("OpenID token unknown or expired.");
        return KeyCodec.ReadUtf8(value.AsSpan(8));
    }

    private static long ExpiryOf(byte[] value) => (long)KeyCodec.ReadU64(value.AsSpan(0, 8));
}
