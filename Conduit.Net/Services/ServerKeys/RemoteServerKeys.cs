using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Federation;
using Conduit.Net.Storage;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Services.ServerKeys;

/// <summary>
/// Other servers' signing keys (server-server API "Retrieving server keys"): verified publishing-keys
/// objects are cached per key id with how long each key may be trusted, so that signatures on requests
/// and events can be checked, old events against keys that have since been replaced. A key that is not
/// cached is fetched from its server, then through each of <c>trusted_servers</c> (notaries).
/// </summary>
public sealed class RemoteServerKeys
{
    /// <summary>The spec's cap on <c>valid_until_ts</c>: a key published for longer cannot be revoked in time.</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(7);

    /// <summary>A key that could not be found is not looked for again this soon, so a flood of requests signed with it costs one fetch.</summary>
    public static readonly TimeSpan MissRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>Longer key ids are never looked up: with a server name they must fit a store key.</summary>
    private const int MaxKeyIdLength = 255;

    private readonly KvStore _store;
    private readonly KvTree _keys;
    private readonly KvTree _published;
    private readonly ServerKeyService _ownKey;
    private readonly string _serverName;
    private readonly TimeProvider _time;
    private readonly ILogger<RemoteServerKeys> _logger;
    private readonly ConcurrentDictionary<(string Server, string KeyId), CachedKey> _cache = new();
    private readonly ConcurrentDictionary<(string Server, string KeyId), DateTimeOffset> _misses = new();
    private readonly ConcurrentDictionary<string, Task<bool>> _directFetches = new();
    private readonly Lock _writeLock = new();
    private readonly FederationClient _client;
    private readonly FederationPolicy _policy;
    private readonly IReadOnlyList<string> _trustedServers;

    public RemoteServerKeys(
        KvStore store,
        ServerConfig config,
        ServerKeyService ownKey,
        FederationClient client,
        FederationPolicy policy,
        TimeProvider time,
        ILogger<RemoteServerKeys> logger)
    {
        _client = client;
        _policy = policy;
        _trustedServers = config.TrustedServers;
        _store = store;
        _keys = store.Tree(Trees.ServerVerifyKeys);
        _published = store.Tree(Trees.ServerPublishedKeys);
        _ownKey = ownKey;
        _serverName = config.ServerName;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The Ed25519 public key (32 bytes) <paramref name="keyId"/> of <paramref name="serverName"/> valid at
    /// <paramref name="validAtTs"/> (ms since the epoch): our own key, a cached one (a current key whose
    /// capped <c>valid_until_ts</c> is not before that time, or an old key that expired after it), or one
    /// fetched (from the server, then through the notaries) and cached; null when none is found and verified.
    /// </summary>
    public async ValueTask<byte[]?> FindVerifyKeyAsync(string serverName, string keyId, long validAtTs, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (serverName == _serverName)
            return keyId == _ownKey.SigningKey.KeyId ? _ownKey.SigningKey.VerifyKey.PublicKey.ToArray() : null;

        // Names come from signatures other servers wrote: nothing that could not be a key is stored or fetched.
        if (!ServerName.TryParse(serverName, out _) || !IsKeyId(keyId))
            return null;
        if (Cached(serverName, keyId) is { } cached && (cached.ValidAt(validAtTs) || cached.IsOld))
            return cached.ValidAt(validAtTs) ? cached.PublicKey : null;
        if (!_policy.Allows(serverName) || (_misses.TryGetValue((serverName, keyId), out var retryAt) && retryAt > _time.GetUtcNow()))
            return null;

        await FetchDirectAsync(serverName, cancellationToken);
        if (Cached(serverName, keyId) is { } direct && direct.ValidAt(validAtTs))
            return direct.PublicKey;
        foreach (var notary in _trustedServers)
        {
            if (notary == serverName || notary == _serverName || !_policy.Allows(notary))
                continue;
            await FetchThroughNotaryAsync(notary, serverName, keyId, validAtTs, cancellationToken);
            if (Cached(serverName, keyId) is { } vouched && vouched.ValidAt(validAtTs))
                return vouched.PublicKey;
        }
        _misses[(serverName, keyId)] = _time.GetUtcNow() + MissRetryDelay;
        return null;
    }

    /// <summary>
    /// Fetches <c>GET /_matrix/key/v2/server</c> from <paramref name="serverName"/> and caches what verifies;
    /// false when the server cannot be reached or its answer is not valid (logged, not thrown). Concurrent
    /// callers share one fetch per server, which runs to its own timeout whoever stops waiting.
    /// </summary>
    public Task<bool> FetchDirectAsync(string serverName, CancellationToken cancellationToken)
    {
        var fetch = _directFetches.GetOrAdd(serverName, FetchDirectOnceAsync);
        _ = fetch.ContinueWith(done => _directFetches.TryRemove(new(serverName, done)), TaskScheduler.Default);
        return fetch.WaitAsync(cancellationToken);
    }

    private async Task<bool> FetchDirectOnceAsync(string serverName)
    {
        try
        {
            var published = await _client.GetAsync(serverName, "/_matrix/key/v2/server", CancellationToken.None);
            if ((string?)published["server_name"] != serverName)
                throw new MatrixException(ErrorCode.Unauthorized, $"The keys served by {serverName} are for {(string?)published["server_name"]}.");
            StorePublishedKeys(published);
            return true;
        }
        catch (Exception e) when (e is FederationException or MatrixException or InvalidOperationException)
        {
            _logger.LogInformation("Could not fetch the keys of {ServerName}: {Error}", serverName, e.Message);
            return false;
        }
    }

    /// <summary>
    /// <c>POST /_matrix/key/v2/query</c> to a notary: each returned object must carry the notary's valid
    /// signature (its key fetched from the notary itself) as well as its origin server's own.
    /// </summary>
    private async Task FetchThroughNotaryAsync(string notary, string serverName, string keyId, long validAtTs, CancellationToken cancellationToken)
    {
        var query = new JsonObject
        {
            ["server_keys"] = new JsonObject
            {
                [serverName] = new JsonObject { [keyId] = new JsonObject { ["minimum_valid_until_ts"] = validAtTs } },
            },
        };
        JsonObject response;
        try
        {
            response = await _client.PostAsync(notary, "/_matrix/key/v2/query", query, cancellationToken);
        }
        catch (Exception e) when (e is FederationException or MatrixException)
        {
            _logger.LogInformation("Could not query {Notary} for the keys of {ServerName}: {Error}", notary, serverName, e.Message);
            return;
        }
        if (response["server_keys"] is not JsonArray results)
            return;
        foreach (var result in results.OfType<JsonObject>())
        {
            if ((string?)result["server_name"] != serverName)
                continue;
            try
            {
                await EnsureNotarySignatureAsync(notary, result, cancellationToken);
                StorePublishedKeys(result);
            }
            catch (Exception e) when (e is MatrixException or InvalidOperationException)
            {
                _logger.LogWarning("Notary {Notary} returned keys of {ServerName} that do not verify: {Error}", notary, serverName, e.Message);
            }
        }
    }

    private async Task EnsureNotarySignatureAsync(string notary, JsonObject result, CancellationToken cancellationToken)
    {
        if (result["signatures"]?[notary] is not JsonObject notarySignatures || notarySignatures.Count == 0)
            throw new MatrixException(ErrorCode.Unauthorized, $"{notary} did not sign the keys it vouches for.");
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (notaryKeyId, _) in notarySignatures)
        {
            if (Cached(notary, notaryKeyId) is not { } notaryKey || !notaryKey.ValidAt(now))
            {
                await FetchDirectAsync(notary, cancellationToken);
                notaryKey = Cached(notary, notaryKeyId);
            }
            if (notaryKey is not null && notaryKey.ValidAt(now) && JsonSigning.Check(result, notary, new VerifyKey(notaryKeyId, notaryKey.PublicKey)) == SignatureCheck.Valid)
                return;
        }
        throw new MatrixException(ErrorCode.Unauthorized, $"The signature of {notary} on the keys it vouches for does not verify.");
    }

    /// <summary>
    /// Verifies a server's self-signed publishing-keys object (<c>server_name</c>, <c>verify_keys</c>,
    /// <c>old_verify_keys</c>, <c>valid_until_ts</c>, <c>signatures</c>) and caches its keys. Every
    /// signature the server made with a key it lists in <c>verify_keys</c> must match, and there must be
    /// at least one. Objects claiming to be this server's are ignored: our own key is never taken from others.
    /// </summary>
    /// <exception cref="MatrixException">
    /// <c>M_INVALID_PARAM</c> when the object is malformed, <c>M_UNAUTHORIZED</c> when its signatures do not hold.
    /// </exception>
    public void StorePublishedKeys(JsonObject publishedKeys)
    {
        var parsed = Parse(publishedKeys);
        if (parsed.ServerName == _serverName)
            return;

        var cappedUntil = Math.Min(parsed.ValidUntilTs, (_time.GetUtcNow() + MaxValidity).ToUnixTimeMilliseconds());
        lock (_writeLock)
        {
            var batch = new WriteBatch();
            var updates = new List<((string, string) Id, CachedKey Key)>();
            foreach (var key in parsed.VerifyKeys)
                Merge(batch, updates, parsed.ServerName, key, new CachedKey(cappedUntil, IsOld: false, key.PublicKey.ToArray()));
            foreach (var (key, expiredTs) in parsed.OldVerifyKeys)
                Merge(batch, updates, parsed.ServerName, key, new CachedKey(expiredTs, IsOld: true, key.PublicKey.ToArray()));

            var serverKey = KeyCodec.Utf8(parsed.ServerName);
            if (_published.Get(serverKey) is not { } previous || ValidUntilOf(previous) <= parsed.ValidUntilTs)
                batch.Put(_published, serverKey, KeyCodec.Utf8(publishedKeys.ToJsonString()));

            _store.Commit(batch);
            foreach (var (id, key) in updates)
                _cache[id] = key;
        }
        _logger.LogDebug("Cached the keys of {ServerName} valid until {ValidUntilTs}", parsed.ServerName, cappedUntil);
    }

    /// <summary>The latest verified publishing-keys object <paramref name="serverName"/> signed, as it signed it; null when none was ever fetched.</summary>
    public JsonObject? PublishedKeys(string serverName) =>
        _published.Get(KeyCodec.Utf8(serverName)) is { } stored ? JsonNode.Parse(stored)?.AsObject() : null;

    private void Merge(WriteBatch batch, List<((string, string) Id, CachedKey Key)> updates, string serverName, VerifyKey key, CachedKey candidate)
    {
        var existing = Cached(serverName, key.KeyId);

        // A stale copy (from a notary's cache, say) must not shorten what a fresher one granted, and a key
        // once listed as old stays old: a server never brings a replaced key back.
        if (existing is not null && existing.PublicKey.AsSpan().SequenceEqual(candidate.PublicKey))
        {
            if (existing.IsOld && !candidate.IsOld)
                return;
            if (existing.IsOld == candidate.IsOld && existing.ValidUntilTs >= candidate.ValidUntilTs)
                return;
        }
        batch.Put(_keys, KeyCodec.Join(serverName, key.KeyId), candidate.Encode());
        updates.Add(((serverName, key.KeyId), candidate));
    }

    private CachedKey? Cached(string serverName, string keyId)
    {
        if (_cache.TryGetValue((serverName, keyId), out var cached))
            return cached;
        if (_keys.Get(KeyCodec.Join(serverName, keyId)) is not { } stored)
            return null;
        return _cache[(serverName, keyId)] = CachedKey.Decode(stored);
    }

    /// <summary><c>ed25519:</c> and a version of the spec's characters, short enough for a store key.</summary>
    private static bool IsKeyId(string keyId) =>
        keyId.Length <= MaxKeyIdLength
        && keyId.StartsWith(SigningKey.Algorithm + ":", StringComparison.Ordinal)
        && SigningKey.IsValidVersion(keyId[(SigningKey.Algorithm.Length + 1)..]);

    private static long ValidUntilOf(byte[] storedObject) =>
        JsonNode.Parse(storedObject)?["valid_until_ts"] is JsonValue value && value.TryGetValue<long>(out var ts) ? ts : 0;

    private static ParsedKeys Parse(JsonObject obj)
    {
        if (obj["server_name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var serverName) || !ServerName.TryParse(serverName, out _))
            throw MatrixException.InvalidParam("The published keys have no valid server_name.");
        if (obj["valid_until_ts"] is not JsonValue untilValue || !untilValue.TryGetValue<long>(out var validUntilTs))
            throw MatrixException.InvalidParam($"The published keys of {serverName} have no integer valid_until_ts.");
        if (obj["verify_keys"] is not JsonObject verifyKeysObject)
            throw MatrixException.InvalidParam($"The published keys of {serverName} have no verify_keys object.");

        var verifyKeys = new List<VerifyKey>();
        foreach (var (keyId, entry) in verifyKeysObject)
            verifyKeys.Add(ParseKey(serverName, keyId, entry));

        var oldVerifyKeys = new List<(VerifyKey, long)>();
        if (obj["old_verify_keys"] is JsonObject oldObject)
        {
            foreach (var (keyId, entry) in oldObject)
            {
                if (entry?["expired_ts"] is not JsonValue expiredValue || !expiredValue.TryGetValue<long>(out var expiredTs))
                    throw MatrixException.InvalidParam($"The old key {keyId} of {serverName} has no integer expired_ts.");
                oldVerifyKeys.Add((ParseKey(serverName, keyId, entry), expiredTs));
            }
        }
        else if (obj.ContainsKey("old_verify_keys") && obj["old_verify_keys"] is not null)
        {
            throw MatrixException.InvalidParam($"The old_verify_keys of {serverName} are not an object.");
        }

        var signedWith = 0;
        foreach (var key in verifyKeys)
        {
            switch (JsonSigning.Check(obj, serverName, key))
            {
                case SignatureCheck.Valid:
                    signedWith++;
                    break;
                case SignatureCheck.NotSignedByEntity or SignatureCheck.NotSignedWithKey:
                    break;
                default:
                    throw new MatrixException(ErrorCode.Unauthorized, $"The published keys of {serverName} carry a bad signature with {key.KeyId}.");
            }
        }
        if (signedWith == 0)
            throw new MatrixException(ErrorCode.Unauthorized, $"The published keys of {serverName} are not signed with any key they publish.");

        return new ParsedKeys(serverName, validUntilTs, verifyKeys, oldVerifyKeys);
    }

    private static VerifyKey ParseKey(string serverName, string keyId, JsonNode? entry)
    {
        if (!IsKeyId(keyId))
            throw MatrixException.InvalidParam($"The key id of {serverName} is not ed25519:<version> with a version of [a-zA-Z0-9_], at most {MaxKeyIdLength} characters.");
        if (entry?["key"] is not JsonValue keyValue || !keyValue.TryGetValue<string>(out var base64))
            throw MatrixException.InvalidParam($"The key {keyId} of {serverName} has no key string.");
        return VerifyKey.TryFromBase64(keyId, base64)
            ?? throw MatrixException.InvalidParam($"The key {keyId} of {serverName} is not an Ed25519 key of the form ed25519:<version>.");
    }

    private sealed record ParsedKeys(string ServerName, long ValidUntilTs, List<VerifyKey> VerifyKeys, List<(VerifyKey Key, long ExpiredTs)> OldVerifyKeys);

    /// <param name="ValidUntilTs">The capped <c>valid_until_ts</c> of a current key, the <c>expired_ts</c> of an old one.</param>
    private sealed record CachedKey(long ValidUntilTs, bool IsOld, byte[] PublicKey)
    {
        /// <summary>A current key vouches for signatures up to its validity; an old key for those made before it expired.</summary>
        public bool ValidAt(long ts) => IsOld ? ts < ValidUntilTs : ts <= ValidUntilTs;

        public byte[] Encode()
        {
            var bytes = new byte[8 + 1 + PublicKey.Length];
            KeyCodec.U64((ulong)ValidUntilTs).CopyTo(bytes, 0);
            bytes[8] = IsOld ? (byte)1 : (byte)0;
            PublicKey.CopyTo(bytes, 9);
            return bytes;
        }

        public static CachedKey Decode(byte[] stored) =>
            new((long)KeyCodec.ReadU64(stored), stored[8] == 1, stored[9..]);
    }
}
