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
    private readonly string _serverName;

    public KeyService(DeviceKeyStore keys, DeviceService devices, ServerConfig config)
    {
        _keys = keys;
        _devices = devices;
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
                _keys.RecordChange(batch, userId);
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
    /// keys are theirs alone.
    /// </summary>
    public KeyQueryResult Query(string callerUserId, IReadOnlyDictionary<string, IReadOnlyList<string>> request)
    {
        var result = new KeyQueryResult([], [], [], [], []);
        foreach (var (userId, wanted) in request)
        {
            if (!IsLocal(userId, result.Failures))
                continue;
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
        return result;
    }

    /// <summary>
    /// <c>POST /keys/claim</c>: for each (user, device, algorithm) the oldest unclaimed one-time key,
    /// removed as it is handed out, or the device's fallback key for the algorithm when none is
    /// left (kept, and marked used). Devices with neither are left out.
    /// </summary>
    public KeyClaimResult Claim(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> request)
    {
        var result = new KeyClaimResult([], []);
        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            foreach (var (userId, devices) in request)
            {
                if (!IsLocal(userId, result.Failures))
                    continue;
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
        return result;
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

    /// <summary>
    /// Whether the user is on this server. Federation does not exist yet, so every other server
    /// named in a request cannot be reached and is reported in <c>failures</c>, as the spec asks for
    /// unreachable servers; the federation work replaces this with real queries.
    /// </summary>
    private bool IsLocal(string userId, JsonObject failures)
    {
        if (!UserId.TryParse(userId, out var parsed))
            throw MatrixException.InvalidParam($"{userId} is not a user id.");
        var server = parsed.Server.ToString();
        if (server == _serverName)
            return true;
        failures[server] = new JsonObject { ["status"] = 503, ["message"] = "This server does not federate yet." };
        return false;
    }

    private void AddCrossSigningKey(JsonObject into, string userId, string usage, string callerUserId)
    {
        if (_keys.GetCrossSigningKey(userId, usage) is not { } key)
            return;
        into[userId] = KeyJson.WithSignatures(key, VisibleSignatures(userId, CrossSigningKeys.PublicKeyOf(key), callerUserId));
    }

    private IEnumerable<(string Signer, string KeyId, string Signature)> VisibleSignatures(string userId, string target, string callerUserId) =>
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
