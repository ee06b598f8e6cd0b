using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Users;

/// <summary>
/// The Users area's trees, typed, plus the one lock that serializes every read-check-write on them
/// (registration races, token rotation, one-use registration tokens) and a cache of access-token
/// lookups that a commit invalidates exactly.
/// </summary>
internal sealed class AccountStore
{
    /// <summary>Beyond this many cached token lookups the cache starts over; it only saves reads.</summary>
    private const int MaxCachedTokens = 10_000;

    private readonly KvStore _store;
    private readonly KvTree _users;
    private readonly KvTree _devices;
    private readonly KvTree _accessTokens;
    private readonly KvTree _refreshTokens;
    private readonly KvTree _registrationTokens;
    private readonly ConcurrentDictionary<string, CachedToken> _tokenCache = new(StringComparer.Ordinal);

    public AccountStore(KvStore store)
    {
        _store = store;
        _users = store.Tree(Trees.Users);
        _devices = store.Tree(Trees.Devices);
        _accessTokens = store.Tree(Trees.AccessTokens);
        _refreshTokens = store.Tree(Trees.RefreshTokens);
        _registrationTokens = store.Tree(Trees.RegistrationTokens);
    }

    /// <summary>Held around every read-check-write of these trees; never across an await or a password hash.</summary>
    public Lock Gate { get; } = new();

    public UserRecord? GetUser(string userId) => Read(_users.Get(KeyCodec.Utf8(userId)), UsersJson.Default.UserRecord);

    public bool AnyUser() => _users.ScanRange(null, null).Any();

    public IEnumerable<(string UserId, UserRecord Record)> AllUsers() =>
        _users.ScanRange(null, null).Select(e => (KeyCodec.ReadUtf8(e.Key), Read(e.Value, UsersJson.Default.UserRecord)!));

    public void PutUser(AccountBatch batch, string userId, UserRecord user) =>
        batch.Writes.Put(_users, KeyCodec.Utf8(userId), Write(user, UsersJson.Default.UserRecord));

    public DeviceRecord? GetDevice(string userId, string deviceId) =>
        Read(_devices.Get(KeyCodec.Join(userId, deviceId)), UsersJson.Default.DeviceRecord);

    public IEnumerable<(string DeviceId, DeviceRecord Record)> GetDevices(string userId) =>
        _devices.ScanPrefix(KeyCodec.Prefix(userId)).Select(e =>
            (KeyCodec.SplitUtf8(e.Key)[1], Read(e.Value, UsersJson.Default.DeviceRecord)!));

    public void PutDevice(AccountBatch batch, string userId, string deviceId, DeviceRecord device) =>
        batch.Writes.Put(_devices, KeyCodec.Join(userId, deviceId), Write(device, UsersJson.Default.DeviceRecord));

    /// <summary>Removes the device and every token bound to it.</summary>
    public void RemoveDevice(AccountBatch batch, string userId, string deviceId, DeviceRecord device)
    {
        RemoveTokens(batch, device.AccessToken, device.RefreshToken);
        RemoveTokens(batch, device.PendingAccessToken, device.PendingRefreshToken);
        batch.Writes.Remove(_devices, KeyCodec.Join(userId, deviceId));
    }

    public void RemoveTokens(AccountBatch batch, string? accessTokenHash, string? refreshTokenHash)
    {
        if (accessTokenHash is not null)
        {
            batch.Writes.Remove(_accessTokens, Convert.FromHexString(accessTokenHash));
            batch.InvalidatedTokens.Add(accessTokenHash);
        }
        if (refreshTokenHash is not null)
            batch.Writes.Remove(_refreshTokens, Convert.FromHexString(refreshTokenHash));
    }

    /// <summary>The access token with this hash and its user's record, through the cache.</summary>
    public CachedToken? LookupAccessToken(string tokenHash)
    {
        if (_tokenCache.TryGetValue(tokenHash, out var cached))
            return cached;
        var record = Read(_accessTokens.Get(Convert.FromHexString(tokenHash)), UsersJson.Default.AccessTokenRecord);
        if (record is null)
            return null;
        var user = GetUser(record.UserId);
        if (user is null)
            return null;
        cached = new CachedToken(record, user);
        if (_tokenCache.Count >= MaxCachedTokens)
            _tokenCache.Clear();
        _tokenCache[tokenHash] = cached;
        return cached;
    }

    public AccessTokenRecord? GetAccessToken(string tokenHash) =>
        Read(_accessTokens.Get(Convert.FromHexString(tokenHash)), UsersJson.Default.AccessTokenRecord);

    public void PutAccessToken(AccountBatch batch, string tokenHash, AccessTokenRecord token)
    {
        batch.Writes.Put(_accessTokens, Convert.FromHexString(tokenHash), Write(token, UsersJson.Default.AccessTokenRecord));
        batch.InvalidatedTokens.Add(tokenHash);
    }

    public RefreshTokenRecord? GetRefreshToken(string tokenHash) =>
        Read(_refreshTokens.Get(Convert.FromHexString(tokenHash)), UsersJson.Default.RefreshTokenRecord);

    public void PutRefreshToken(AccountBatch batch, string tokenHash, RefreshTokenRecord token) =>
        batch.Writes.Put(_refreshTokens, Convert.FromHexString(tokenHash), Write(token, UsersJson.Default.RefreshTokenRecord));

    public RegistrationTokenRecord? GetRegistrationToken(string token) =>
        Read(_registrationTokens.Get(KeyCodec.Utf8(token)), UsersJson.Default.RegistrationTokenRecord);

    public bool AnyRegistrationToken() => _registrationTokens.ScanRange(null, null).Any();

    public IEnumerable<(string Token, RegistrationTokenRecord Record)> AllRegistrationTokens() =>
        _registrationTokens.ScanRange(null, null).Select(e =>
            (KeyCodec.ReadUtf8(e.Key), Read(e.Value, UsersJson.Default.RegistrationTokenRecord)!));

    public void PutRegistrationToken(AccountBatch batch, string token, RegistrationTokenRecord record) =>
        batch.Writes.Put(_registrationTokens, KeyCodec.Utf8(token), Write(record, UsersJson.Default.RegistrationTokenRecord));

    /// <summary>
    /// Commits the batch durably. Cached lookups of every token it touches are dropped both before the
    /// commit and after it, so no request that starts after this returns can see a stale entry.
    /// </summary>
    public void Commit(AccountBatch batch)
    {
        foreach (var hash in batch.InvalidatedTokens)
            _tokenCache.TryRemove(hash, out _);
        _store.Commit(batch.Writes);
        foreach (var hash in batch.InvalidatedTokens)
            _tokenCache.TryRemove(hash, out _);
    }

    /// <summary>Drops every cached lookup of this user's tokens (after a change to the user record itself).</summary>
    public void InvalidateUser(string userId)
    {
        foreach (var (hash, cached) in _tokenCache)
        {
            if (cached.Token.UserId == userId)
                _tokenCache.TryRemove(hash, out _);
        }
    }

    private static T? Read<T>(byte[]? bytes, JsonTypeInfo<T> type) where T : class =>
        bytes is null ? null : JsonSerializer.Deserialize(bytes, type);

    private static byte[] Write<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);
}

/// <summary>The writes of one account operation and the token hashes whose cached lookups they make stale.</summary>
internal sealed class AccountBatch
{
    public WriteBatch Writes { get; } = new();

    public List<string> InvalidatedTokens { get; } = [];
}

/// <summary>A token lookup as cached: the token and its user's record at the time.</summary>
internal sealed record CachedToken(AccessTokenRecord Token, UserRecord User);
