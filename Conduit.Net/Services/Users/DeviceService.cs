using System.Collections.Concurrent;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;

namespace Conduit.Net.Services.Users;

/// <summary>The tokens handed to a client at login or registration.</summary>
public sealed record IssuedSession(string DeviceId, string AccessToken, string? RefreshToken, long? ExpiresInMs);

/// <summary>Who an access token belongs to.</summary>
public sealed record AuthenticatedDevice(string UserId, string DeviceId, bool IsAdmin);

/// <summary>A device as clients see it.</summary>
public sealed record DeviceInfo(string DeviceId, string? DisplayName, string? LastSeenIp, long? LastSeenTs);

/// <summary>
/// Devices and their tokens: issuing, checking, refreshing and revoking access tokens, and the device
/// list with last-seen data. Access tokens are checked on every authenticated request, so the
/// lookup is cached and last-seen updates reach the disk at most once per device every few minutes.
/// </summary>
public sealed class DeviceService
{
    /// <summary>The most a device's last-seen data on disk lags behind; the device list shows the live value.</summary>
    private static readonly TimeSpan LastSeenPersistInterval = TimeSpan.FromMinutes(5);

    /// <summary>Longer display names are refused on update and cut at login, as Synapse does.</summary>
    public const int MaxDisplayNameLength = 100;

    private readonly AccountStore _store;
    private readonly ServerConfig _config;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<IDeviceObserver> _observers;
    private readonly ConcurrentDictionary<(string UserId, string DeviceId), LastSeen> _lastSeen = new();

    internal DeviceService(AccountStore store, ServerConfig config, TimeProvider time, IReadOnlyList<IDeviceObserver> observers)
    {
        _store = store;
        _config = config;
        _time = time;
        _observers = observers;
    }

    /// <summary>
    /// The device and user behind an access token: <c>M_UNKNOWN_TOKEN</c> when it is unknown, revoked
    /// or its user deactivated; with <c>soft_logout</c> when it merely expired. The first use of a
    /// token returned by a refresh retires the tokens it replaced.
    /// </summary>
    public AuthenticatedDevice Authenticate(string accessToken)
    {
        var hash = HashOf(accessToken);
        var cached = _store.LookupAccessToken(hash) ?? throw MatrixException.UnknownToken("Unknown access token.");
        if (cached.User.Deactivated)
            throw MatrixException.UnknownToken("This account has been deactivated.");
        if (cached.Token.ExpiresTs is { } expires && expires <= Now())
            throw MatrixException.UnknownToken("The access token has expired; refresh it or log in again.", softLogout: true);
        if (cached.Token.Pending)
            Confirm(cached.Token.UserId, cached.Token.DeviceId, hash);
        return new AuthenticatedDevice(cached.Token.UserId, cached.Token.DeviceId, cached.User.Admin);
    }

    /// <summary>
    /// Trades a refresh token for a new access and refresh token. The old pair keeps working until
    /// the client uses the new one (so a lost response can be retried); refreshing again with the
    /// old token replaces the unconfirmed pair.
    /// </summary>
    public IssuedSession Refresh(string refreshToken)
    {
        var hash = HashOf(refreshToken);
        lock (_store.Gate)
        {
            var record = _store.GetRefreshToken(hash) ?? throw MatrixException.UnknownToken("Unknown refresh token.");
            var device = _store.GetDevice(record.UserId, record.DeviceId) ?? throw MatrixException.UnknownToken("Unknown refresh token.");
            if (_store.GetUser(record.UserId) is not { Deactivated: false })
                throw MatrixException.UnknownToken("This account has been deactivated.");

            var batch = new AccountBatch();
            if (device.PendingRefreshToken == hash)
                device = Promote(batch, device);
            else if (device.RefreshToken != hash)
                throw MatrixException.UnknownToken("Unknown refresh token.");
            else
                _store.RemoveTokens(batch, device.PendingAccessToken, device.PendingRefreshToken);

            var access = Secrets.NewToken();
            var refresh = Secrets.NewToken();
            var expiresTs = Now() + _config.RefreshableAccessTokenLifetimeMs;
            _store.PutAccessToken(batch, HashOf(access), new AccessTokenRecord(record.UserId, record.DeviceId, expiresTs, Pending: true));
            _store.PutRefreshToken(batch, HashOf(refresh), new RefreshTokenRecord(record.UserId, record.DeviceId));
            _store.PutDevice(batch, record.UserId, record.DeviceId,
                device with { PendingAccessToken = HashOf(access), PendingRefreshToken = HashOf(refresh) });
            _store.Commit(batch);
            return new IssuedSession(record.DeviceId, access, refresh, _config.RefreshableAccessTokenLifetimeMs);
        }
    }

    /// <summary>Logs the device out: the device and every token bound to it are gone.</summary>
    public void Logout(string userId, string deviceId) => Remove(userId, [deviceId]);

    /// <summary>Logs out every device of the user, the calling one included.</summary>
    public void LogoutAll(string userId) => RemoveAllExcept(userId, except: null);

    public IReadOnlyList<DeviceInfo> List(string userId) =>
        [.. _store.GetDevices(userId).Select(d => Info(userId, d.DeviceId, d.Record))];

    /// <summary>One device of the user; 404 <c>M_NOT_FOUND</c> when the user has no such device.</summary>
    public DeviceInfo Get(string userId, string deviceId)
    {
        var device = _store.GetDevice(userId, deviceId) ?? throw MatrixException.NotFound("No such device.");
        return Info(userId, deviceId, device);
    }

    /// <summary>Renames an existing device (a null name leaves it unchanged); 404 <c>M_NOT_FOUND</c> for an unknown one.</summary>
    public void Rename(string userId, string deviceId, string? displayName)
    {
        if (displayName is { Length: > MaxDisplayNameLength })
            throw MatrixException.InvalidParam($"The device display name is longer than {MaxDisplayNameLength} characters.");
        lock (_store.Gate)
        {
            var device = _store.GetDevice(userId, deviceId) ?? throw MatrixException.NotFound("No such device.");
            if (displayName is null)
                return;
            var batch = new AccountBatch();
            _store.PutDevice(batch, userId, deviceId, device with { DisplayName = displayName });
            if (device.DisplayName != displayName)
            {
                foreach (var observer in _observers)
                    observer.DeviceRenamed(batch.Writes, userId, deviceId);
            }
            _store.Commit(batch);
        }
    }

    /// <summary>
    /// Records that the device was just used from <paramref name="ip"/>. The device list shows it
    /// at once; the disk gets it when the stored value is older than the persist interval.
    /// </summary>
    public void Touch(string userId, string deviceId, string? ip)
    {
        var now = Now();
        var entry = _lastSeen.GetOrAdd((userId, deviceId), _ => new LastSeen());
        long persisted;
        lock (entry)
        {
            entry.Ip = ip;
            entry.Ts = now;
            persisted = entry.PersistedTs;
            if (now - persisted < (long)LastSeenPersistInterval.TotalMilliseconds)
                return;
            entry.PersistedTs = now;
        }
        lock (_store.Gate)
        {
            var device = _store.GetDevice(userId, deviceId);
            if (device is null)
                return;
            var batch = new AccountBatch();
            _store.PutDevice(batch, userId, deviceId, device with { LastSeenIp = ip, LastSeenTs = now });
            _store.Commit(batch);
        }
    }

    /// <summary>
    /// Adds a device nobody logs in on (a dehydrated device, MSC3814): it has keys and receives
    /// to-device messages, but no tokens. 400 <c>M_INVALID_PARAM</c> for a bad id or one the user has.
    /// </summary>
    public void AddWithoutTokens(string userId, string deviceId, string? displayName)
    {
        if (!DeviceId.TryParse(deviceId, out _))
            throw MatrixException.InvalidParam("device_id must be 1 to 255 bytes of text without NUL.");
        lock (_store.Gate)
        {
            if (_store.GetDevice(userId, deviceId) is not null)
                throw MatrixException.InvalidParam("The user already has a device with this id.");
            var batch = new AccountBatch();
            _store.PutDevice(batch, userId, deviceId, new DeviceRecord(Truncate(displayName), Now(), null, null, null, null, null, null));
            _store.Commit(batch);
        }
    }

    /// <summary>
    /// Stages a new login on the device (creating it when needed) and returns its tokens. An existing
    /// device keeps its name and loses its previous tokens. Call under the store's gate.
    /// </summary>
    internal IssuedSession StartSession(AccountBatch batch, string userId, string? deviceId, string? displayName, bool refreshable)
    {
        if (deviceId is not null && !DeviceId.TryParse(deviceId, out _))
            throw MatrixException.InvalidParam("device_id must be 1 to 255 bytes of text without NUL.");
        deviceId ??= NewDeviceId(userId);
        var now = Now();
        var device = _store.GetDevice(userId, deviceId);
        if (device is null)
        {
            device = new DeviceRecord(Truncate(displayName), now, null, null, null, null, null, null);
        }
        else
        {
            _store.RemoveTokens(batch, device.AccessToken, device.RefreshToken);
            _store.RemoveTokens(batch, device.PendingAccessToken, device.PendingRefreshToken);
        }

        var access = Secrets.NewToken();
        var refresh = refreshable ? Secrets.NewToken() : null;
        long? lifetime = refreshable ? _config.RefreshableAccessTokenLifetimeMs : null;
        _store.PutAccessToken(batch, HashOf(access), new AccessTokenRecord(userId, deviceId, now + lifetime, Pending: false));
        if (refresh is not null)
            _store.PutRefreshToken(batch, HashOf(refresh), new RefreshTokenRecord(userId, deviceId));
        _store.PutDevice(batch, userId, deviceId, device with
        {
            AccessToken = HashOf(access),
            RefreshToken = refresh is null ? null : HashOf(refresh),
            PendingAccessToken = null,
            PendingRefreshToken = null,
        });
        return new IssuedSession(deviceId, access, refresh, lifetime);
    }

    /// <summary>Removes these devices of the user and their tokens; unknown ids are ignored.</summary>
    internal void Remove(string userId, IEnumerable<string> deviceIds)
    {
        lock (_store.Gate)
        {
            var batch = new AccountBatch();
            var removed = new List<string>();
            foreach (var deviceId in deviceIds.Distinct(StringComparer.Ordinal))
            {
                if (_store.GetDevice(userId, deviceId) is { } device)
                {
                    _store.RemoveDevice(batch, userId, deviceId, device);
                    removed.Add(deviceId);
                }
            }
            NotifyRemoved(batch, userId, removed);
            _store.Commit(batch);
            foreach (var deviceId in removed)
                _lastSeen.TryRemove((userId, deviceId), out _);
        }
    }

    /// <summary>Removes every device of the user but <paramref name="except"/>.</summary>
    internal void RemoveAllExcept(string userId, string? except)
    {
        lock (_store.Gate)
        {
            var batch = new AccountBatch();
            StageRemoveAllExcept(batch, userId, except);
            _store.Commit(batch);
        }
    }

    /// <summary>Stages removing every device of the user but <paramref name="except"/>. Call under the store's gate.</summary>
    internal void StageRemoveAllExcept(AccountBatch batch, string userId, string? except)
    {
        var removed = new List<string>();
        foreach (var (deviceId, device) in _store.GetDevices(userId).ToList())
        {
            if (deviceId == except)
                continue;
            _store.RemoveDevice(batch, userId, deviceId, device);
            _lastSeen.TryRemove((userId, deviceId), out _);
            removed.Add(deviceId);
        }
        NotifyRemoved(batch, userId, removed);
    }

    private void NotifyRemoved(AccountBatch batch, string userId, List<string> removed)
    {
        if (removed.Count == 0)
            return;
        foreach (var observer in _observers)
            observer.DevicesRemoved(batch.Writes, userId, removed);
    }

    /// <summary>The first use of a refreshed access token: the pair it replaced stops working.</summary>
    private void Confirm(string userId, string deviceId, string accessTokenHash)
    {
        lock (_store.Gate)
        {
            var device = _store.GetDevice(userId, deviceId);
            if (device is null || device.PendingAccessToken != accessTokenHash)
                return;
            var batch = new AccountBatch();
            device = Promote(batch, device);
            _store.PutDevice(batch, userId, deviceId, device);
            _store.Commit(batch);
        }
    }

    /// <summary>Stages the pending pair becoming the current one and the current one being revoked.</summary>
    private DeviceRecord Promote(AccountBatch batch, DeviceRecord device)
    {
        _store.RemoveTokens(batch, device.AccessToken, device.RefreshToken);
        if (device.PendingAccessToken is { } pending && _store.GetAccessToken(pending) is { } record)
            _store.PutAccessToken(batch, pending, record with { Pending = false });
        return device with
        {
            AccessToken = device.PendingAccessToken,
            RefreshToken = device.PendingRefreshToken,
            PendingAccessToken = null,
            PendingRefreshToken = null,
        };
    }

    private DeviceInfo Info(string userId, string deviceId, DeviceRecord device)
    {
        string? ip = device.LastSeenIp;
        long? ts = device.LastSeenTs;
        if (_lastSeen.TryGetValue((userId, deviceId), out var live))
        {
            lock (live)
            {
                if (live.Ts > (ts ?? 0))
                {
                    ip = live.Ip;
                    ts = live.Ts;
                }
            }
        }
        return new DeviceInfo(deviceId, device.DisplayName, ip, ts);
    }

    private string NewDeviceId(string userId)
    {
        while (true)
        {
            var id = DeviceId.Generate().Value;
            if (_store.GetDevice(userId, id) is null)
                return id;
        }
    }

    private static string? Truncate(string? displayName)
    {
        if (displayName is null || displayName.Length <= MaxDisplayNameLength)
            return displayName;
        var cut = char.IsHighSurrogate(displayName[MaxDisplayNameLength - 1]) ? MaxDisplayNameLength - 1 : MaxDisplayNameLength;
        return displayName[..cut];
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    internal static string HashOf(string token) => Convert.ToHexString(Secrets.HashToken(token));

    private sealed class LastSeen
    {
        public string? Ip { get; set; }
        public long Ts { get; set; }
        public long PersistedTs { get; set; }
    }
}
