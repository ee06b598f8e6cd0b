using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Keys;

/// <summary>What <c>/keys/query</c> answers: each part keyed by user id, <c>failures</c> by server name.</summary>
public sealed record KeyQueryResult(JsonObject DeviceKeys, JsonObject MasterKeys, JsonObject SelfSigningKeys, JsonObject UserSigningKeys, JsonObject Failures);

/// <summary>What <c>/keys/claim</c> answers: user → device → key id → key, and <c>failures</c> by server name.</summary>
public sealed record KeyClaimResult(JsonObject OneTimeKeys, JsonObject Failures);

/// <summary>
/// The key-distribution half of end-to-end encryption (the spec's "Key management API"): devices
/// upload their identity keys, one-time keys and fallback keys; anyone may query a local user's
/// device and cross-signing keys and claim one-time keys to start an Olm session. A one-time key
/// is handed out once: claims and uploads run under the keys' lock, each committing before it
/// releases it.
/// </summary>
public sealed class KeyService
{
    /// <summary>The algorithm clients count on seeing in the counts, even at zero.</summary>
    public const string SignedCurve25519 = "signed_curve25519";

    private readonly DeviceKeyStore _keys;
    private readonly DeviceService _devices;
    private readonly FederatedKeys _remote;
    private readonly string _serverName;

    public KeyService(DeviceKeyStore keys, DeviceService devices, FederatedKeys remote, ServerConfig config)
    {
        _keys = keys;
        _devices = devices;
        _remote = remote;
        _serverName = config.ServerName;
    }

    /// <summary>
    /// <c>POST /keys/upload</c>. Device keys must name the calling user and device; a changed upload
    /// replaces the stored keys and is a device-list change, an identical one changes nothing. A
    /// one-time key id already stored with other content is 400, as in Synapse (the same content is
    /// ignored). One fallback key per algorithm; a new one replaces the old one and is unused.
    /// Returns the device's one-time key counts after the upload.
    /// </summary>
    public IReadOnlyDictionary<string, int> Upload(string userId, string deviceId, JsonObject? deviceKeys, JsonObject? oneTimeKeys, JsonObject? fallbackKeys)
    {
        if (deviceKeys is not null)
            ValidateDeviceKeys(deviceKeys, userId, deviceId);
        var newOneTime = ParseKeyMap(oneTimeKeys, "one_time_keys");
        var newFallback = ParseKeyMap(fallbackKeys, "fallback_keys");
        var fallbackAlgorithms = newFallback.Select(k => k.Algorithm).ToList();
        if (fallbackAlgorithms.Distinct(StringComparer.Ordinal).Count() != fallbackAlgorithms.Count)
            throw MatrixException.InvalidParam("fallback_keys holds more than one key for an algorithm.");

        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            if (deviceKeys is not null && (_keys.GetDeviceKeys(userId, deviceId) is not { } stored || !KeyJson.SameJson(stored, deviceKeys)))
            {
                _keys.PutDeviceKeys(batch, userId, deviceId, deviceKeys);
                _keys.RecordLocalChange(batch, userId, [deviceId]);
            }

            if (newOneTime.Count > 0)
            {
                var existing = _keys.OneTimeKeys(userId, deviceId).ToDictionary(k => k.KeyId, k => k.Key, StringComparer.Ordinal);
                var position = _keys.Store.NextCount(batch);
                foreach (var (keyId, algorithm, key) in newOneTime)
                {
                    if (existing.TryGetValue(keyId, out var old))
                    {
                        if (!KeyJson.SameJson(old, key))
                            throw new MatrixException(ErrorCode.BadRequest, $"One-time key {keyId} already exists with other content.");
                        continue;
                    }
                    _keys.PutOneTimeKey(batch, userId, deviceId, algorithm, position, keyId, key);
                }
            }

            foreach (var (keyId, algorithm, key) in newFallback)
            {
                var old = _keys.FallbackKey(userId, deviceId, algorithm);
                if (old is not null && old.KeyId == keyId && KeyJson.SameJson(old.Key, key))
                    continue;
                _keys.PutFallbackKey(batch, userId, deviceId, algorithm, new StoredFallbackKey(keyId, key, Used: false));
            }

            if (!batch.IsEmpty)
                _keys.Store.Commit(batch);
        }
        return OneTimeKeyCounts(userId, deviceId);
    }

    /// <summary>
    /// <c>POST /keys/query</c>: the device keys of the named devices (every device for an empty
    /// list) with their display names and the signatures uploaded for them, and the users'
    /// cross-signing keys; the user-signing key only of the caller's own user. Signatures stored
    /// for a key are those of its owner and of the caller: a user's signatures of other people's
    /// keys are theirs alone. Users of other servers are asked of their servers within
    /// <paramref name="timeout"/> (see <see cref="FederatedKeys"/>).
    /// </summary>
    public async Task<KeyQueryResult> QueryAsync(
        string callerUserId, IReadOnlyDictionary<string, IReadOnlyList<string>> request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = new KeyQueryResult([], [], [], [], []);
        var (local, remote) = SplitByServer(request);
        AddLocalKeys(result, callerUserId, local);
        await _remote.QueryAsync(remote, timeout, result, cancellationToken);
        AddCallersSignatures(result.MasterKeys, callerUserId, remote.Values.SelectMany(users => users.Keys));
        return result;
    }

    /// <summary>The caller's signatures (by their user-signing key, uploaded here) of the answered master keys of other servers' users.</summary>
    private void AddCallersSignatures(JsonObject masterKeys, string callerUserId, IEnumerable<string> remoteUsers)
    {
        foreach (var userId in remoteUsers)
        {
            if (CrossSigningKeys.WellFormedMaster(masterKeys[userId], userId) is { } master)
                masterKeys[userId] = KeyJson.WithSignatures(master, _keys.Signatures(userId, CrossSigningKeys.PublicKeyOf(master)).Where(s => s.Signer == callerUserId));
        }
    }

    /// <summary>
    /// <c>POST /_matrix/federation/v1/user/keys/query</c>: what <see cref="QueryAsync"/> answers for
    /// local users, with the signatures of their owners only and no user-signing keys. 400
    /// <c>M_INVALID_PARAM</c> when a user is not on this server.
    /// </summary>
    public KeyQueryResult QueryForServer(IReadOnlyDictionary<string, IReadOnlyList<string>> request)
    {
        var result = new KeyQueryResult([], [], [], [], []);
        AddLocalKeys(result, callerUserId: null, OnlyLocal(request));
        return result;
    }

    /// <summary>
    /// <c>GET /_matrix/federation/v1/user/devices/{userId}</c>: the local user's devices with keys, with
    /// their display names, the master and self-signing keys, and the position of the user's last
    /// device-list change as <c>stream_id</c>. 400 <c>M_INVALID_PARAM</c> for a user of another server.
    /// </summary>
    public JsonObject DevicesForServer(string userId)
    {
        EnsureLocal(userId);
        var keys = new KeyQueryResult([], [], [], [], []);
        AddLocalKeys(keys, callerUserId: null, new Dictionary<string, IReadOnlyList<string>> { [userId] = [] });
        var devices = new JsonArray();
        foreach (var (deviceId, device) in (JsonObject)keys.DeviceKeys[userId]!)
        {
            var entry = new JsonObject { ["device_id"] = deviceId, ["keys"] = device!.DeepClone() };
            if (device["unsigned"]?["device_display_name"] is { } name)
                entry["device_display_name"] = name.DeepClone();
            devices.Add((JsonNode)entry);
        }
        var response = new JsonObject { ["user_id"] = userId, ["stream_id"] = _keys.DeviceListPosition(userId), ["devices"] = devices };
        if (keys.MasterKeys[userId] is { } master)
            response["master_key"] = master.DeepClone();
        if (keys.SelfSigningKeys[userId] is { } selfSigning)
            response["self_signing_key"] = selfSigning.DeepClone();
        return response;
    }

    /// <summary>
    /// <c>POST /keys/claim</c>: for each (user, device, algorithm) the oldest unclaimed one-time key,
    /// removed as it is handed out, or the device's fallback key for the algorithm when none is
    /// left (kept, and marked used). Devices with neither are left out. Users of other servers are
    /// claimed from their servers within <paramref name="timeout"/> (see <see cref="FederatedKeys"/>).
    /// </summary>
    public async Task<KeyClaimResult> ClaimAsync(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = new KeyClaimResult([], []);
        var (local, remote) = SplitByServer(request);
        ClaimLocal(result, local);
        await _remote.ClaimAsync(remote, timeout, result, cancellationToken);
        return result;
    }

    /// <summary>
    /// <c>POST /_matrix/federation/v1/user/keys/claim</c>: the same rules as <see cref="ClaimAsync"/> for
    /// local users; 400 <c>M_INVALID_PARAM</c> when a user is not on this server.
    /// </summary>
    public KeyClaimResult ClaimForServer(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> request)
    {
        var result = new KeyClaimResult([], []);
        ClaimLocal(result, OnlyLocal(request));
        return result;
    }

    private void AddLocalKeys(KeyQueryResult result, string? callerUserId, IReadOnlyDictionary<string, IReadOnlyList<string>> request)
    {
        foreach (var (userId, wanted) in request)
        {
            var names = _devices.List(userId).ToDictionary(d => d.DeviceId, d => d.DisplayName, StringComparer.Ordinal);
            var devices = new JsonObject();
            foreach (var (deviceId, keys) in _keys.AllDeviceKeys(userId))
            {
                if (!names.TryGetValue(deviceId, out var displayName) || (wanted.Count > 0 && !wanted.Contains(deviceId)))
                    continue;
                var served = KeyJson.WithSignatures(keys, VisibleSignatures(userId, deviceId, callerUserId));
                if (displayName is not null)
                    served["unsigned"] = new JsonObject { ["device_display_name"] = displayName };
                devices[deviceId] = served;
            }
            result.DeviceKeys[userId] = devices;

            AddCrossSigningKey(result.MasterKeys, userId, DeviceKeyStore.Master, callerUserId);
            AddCrossSigningKey(result.SelfSigningKeys, userId, DeviceKeyStore.SelfSigning, callerUserId);
            if (userId == callerUserId)
                AddCrossSigningKey(result.UserSigningKeys, userId, DeviceKeyStore.UserSigning, callerUserId);
        }
    }

    private void ClaimLocal(KeyClaimResult result, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> request)
    {
        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            foreach (var (userId, devices) in request)
            {
                var claimed = new JsonObject();
                foreach (var (deviceId, algorithm) in devices)
                {
                    if (_keys.OneTimeKeys(userId, deviceId, algorithm).FirstOrDefault() is { } oneTime)
                    {
                        _keys.RemoveOneTimeKey(batch, oneTime);
                        claimed[deviceId] = new JsonObject { [oneTime.KeyId] = oneTime.Key.DeepClone() };
                    }
                    else if (_keys.FallbackKey(userId, deviceId, algorithm) is { } fallback)
                    {
                        if (!fallback.Used)
                            _keys.PutFallbackKey(batch, userId, deviceId, algorithm, fallback with { Used = true });
                        claimed[deviceId] = new JsonObject { [fallback.KeyId] = fallback.Key.DeepClone() };
                    }
                }
                if (claimed.Count > 0)
                    result.OneTimeKeys[userId] = claimed;
            }
            if (!batch.IsEmpty)
                _keys.Store.Commit(batch);
        }
    }

    /// <summary>The device's unclaimed one-time keys per algorithm, <c>signed_curve25519</c> always included.</summary>
    public IReadOnlyDictionary<string, int> OneTimeKeyCounts(string userId, string deviceId)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal) { [SignedCurve25519] = 0 };
        foreach (var key in _keys.OneTimeKeys(userId, deviceId))
        {
            var algorithm = KeyJson.SplitKeyId(key.KeyId).Algorithm;
            counts[algorithm] = counts.GetValueOrDefault(algorithm) + 1;
        }
        return counts;
    }

    /// <summary>The algorithms for which the device has a fallback key that no claim has handed out.</summary>
    public IReadOnlyList<string> UnusedFallbackKeyTypes(string userId, string deviceId) =>
        [.. _keys.FallbackKeys(userId, deviceId).Where(k => !k.Key.Used).Select(k => k.Algorithm)];

    /// <summary>The request's users of this server, and the others grouped by their server; 400 for a malformed user id.</summary>
    private (Dictionary<string, T> Local, Dictionary<string, Dictionary<string, T>> Remote) SplitByServer<T>(IReadOnlyDictionary<string, T> request)
    {
        var local = new Dictionary<string, T>(StringComparer.Ordinal);
        var remote = new Dictionary<string, Dictionary<string, T>>(StringComparer.Ordinal);
        foreach (var (userId, value) in request)
        {
            var server = ServerOf(userId);
            if (server == _serverName)
                local[userId] = value;
            else if (remote.TryGetValue(server, out var users))
                users[userId] = value;
            else
                remote[server] = new Dictionary<string, T>(StringComparer.Ordinal) { [userId] = value };
        }
        return (local, remote);
    }

    /// <summary>The request as is when every user is on this server: other servers may ask only about ours.</summary>
    private IReadOnlyDictionary<string, T> OnlyLocal<T>(IReadOnlyDictionary<string, T> request)
    {
        foreach (var userId in request.Keys)
            EnsureLocal(userId);
        return request;
    }

    private void EnsureLocal(string userId)
    {
        if (ServerOf(userId) != _serverName)
            throw MatrixException.InvalidParam($"{userId} is not a user of this server.");
    }

    private static string ServerOf(string userId) =>
        UserId.TryParse(userId, out var parsed) ? parsed.Server.Value : throw MatrixException.InvalidParam($"{userId} is not a user id.");

    private void AddCrossSigningKey(JsonObject into, string userId, string usage, string? callerUserId)
    {
        if (_keys.GetCrossSigningKey(userId, usage) is not { } key)
            return;
        into[userId] = KeyJson.WithSignatures(key, VisibleSignatures(userId, CrossSigningKeys.PublicKeyOf(key), callerUserId));
    }

    private IEnumerable<(string Signer, string KeyId, string Signature)> VisibleSignatures(string userId, string target, string? callerUserId) =>
        _keys.Signatures(userId, target).Where(s => s.Signer == userId || s.Signer == callerUserId);

    private static void ValidateDeviceKeys(JsonObject keys, string userId, string deviceId)
    {
        const string What = "device_keys";
        if (KeyJson.RequireString(keys, "user_id", What) != userId)
            throw MatrixException.InvalidParam("device_keys.user_id is not the caller's user id.");
        if (KeyJson.RequireString(keys, "device_id", What) != deviceId)
            throw MatrixException.InvalidParam("device_keys.device_id is not the caller's device id.");
        if (keys["algorithms"] is not JsonArray algorithms || algorithms.Any(a => a is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw MatrixException.BadJson("device_keys.algorithms must be a list of strings.");
        foreach (var (keyId, _) in KeyJson.RequireStringMap(keys["keys"], "device_keys.keys"))
            KeyJson.SplitKeyId(keyId);
        KeyJson.RequireSignatures(keys["signatures"], What);
        KeyJson.Canonical(keys);
    }

    /// <summary>A map of <c>algorithm:key_id</c> to a key (a string, or an object such as a signed key).</summary>
    private static List<(string KeyId, string Algorithm, JsonNode Key)> ParseKeyMap(JsonObject? map, string what)
    {
        List<(string, string, JsonNode)> keys = [];
        foreach (var (keyId, key) in map ?? [])
        {
            var (algorithm, _) = KeyJson.SplitKeyId(keyId);
            if (key is not (JsonObject or JsonValue) || (key is JsonValue v && v.GetValueKind() != JsonValueKind.String))
                throw MatrixException.BadJson($"{what}.{keyId} must be a string or an object.");
            KeyJson.Canonical(key);
            keys.Add((keyId, algorithm, key.DeepClone()));
        }
        return keys;
    }
}
