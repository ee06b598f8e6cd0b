using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;
using Conduit.Net.Core.Errors;
using Conduit.Net.Core.Identifiers;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Keys;

/// <summary>
/// Cross-signing (the spec's "Cross-signing" module): uploading a user's master, self-signing and
/// user-signing keys, and signatures of devices and master keys made with them.
/// </summary>
public sealed class CrossSigningKeys
{
    private readonly DeviceKeyStore _keys;
    private readonly UserService _users;
    private readonly KeyService _keyQueries;

    public CrossSigningKeys(DeviceKeyStore keys, UserService users, KeyService keyQueries)
    {
        _keys = keys;
        _users = users;
        _keyQueries = keyQueries;
    }

    /// <summary>
    /// <c>POST /keys/device_signing/upload</c>. Each key must be the caller's, carry its usage and one
    /// Ed25519 key published under its own public key; the self-signing and user-signing keys must be
    /// signed by the master key (the one uploaded with them, else the stored one; 400
    /// <c>M_MISSING_PARAM</c> when there is none) and none may be published under a device's id
    /// (403). User-interactive auth (the password) is asked unless the user has no master key yet,
    /// or the request holds the stored master key and only keys identical to the stored ones (spec
    /// v1.11, MSC3967: a retried upload changes nothing). Returns the challenge while auth is incomplete.
    /// </summary>
    public UiaChallenge? UploadKeys(string userId, JsonObject? master, JsonObject? selfSigning, JsonObject? userSigning, UiaRequest uia)
    {
        var uploads = new List<(string Usage, JsonObject Key)>();
        if (master is not null)
            uploads.Add((DeviceKeyStore.Master, master));
        if (selfSigning is not null)
            uploads.Add((DeviceKeyStore.SelfSigning, selfSigning));
        if (userSigning is not null)
            uploads.Add((DeviceKeyStore.UserSigning, userSigning));
        foreach (var (usage, key) in uploads)
            Validate(key, userId, usage);

        var masterKey = master ?? _keys.GetCrossSigningKey(userId, DeviceKeyStore.Master);
        foreach (var (usage, key) in uploads.Where(u => u.Usage != DeviceKeyStore.Master))
        {
            if (masterKey is null)
                throw MatrixException.MissingParam($"There is no master key to check the {usage} key's signature against.");
            if (!JsonSigning.Verify(key, userId, VerifyKeyOf(masterKey)))
                throw new MatrixException(ErrorCode.InvalidSignature, $"The {usage} key is not signed by the master key.");
        }

        // A key published under a device's id would make signatures of the two indistinguishable.
        var deviceIds = _users.Devices.List(userId).Select(d => d.DeviceId).ToHashSet(StringComparer.Ordinal);
        if (uploads.Any(u => deviceIds.Contains(PublicKeyOf(u.Key))))
            throw MatrixException.Forbidden("A cross-signing key's public key is the id of one of the user's devices.");

        var storedMaster = _keys.GetCrossSigningKey(userId, DeviceKeyStore.Master);
        if (storedMaster is null)
        {
            Store(userId, uploads);
            return null;
        }
        var noNewKeys = master is not null
            && uploads.All(u => _keys.GetCrossSigningKey(userId, u.Usage) is { } stored && KeyJson.SameJson(stored, u.Key));
        return noNewKeys ? null : _users.WithPassword(userId, uia, () => Store(userId, uploads));
    }

    /// <summary>
    /// <c>POST /keys/signatures/upload</c>: signatures of the caller's own devices by their
    /// self-signing key, of their own master key by one of their devices, and of other users' master
    /// keys by their user-signing key. Each signed object must be the stored key (signatures and
    /// unsigned aside) and each signature must verify. What fails is reported per key, the rest is
    /// stored. Returns the failures: user → key id → error.
    /// </summary>
    /// <remarks>
    /// The master key of another server's user is the one their server answers now (asked through
    /// <see cref="KeyService.QueryAsync"/>); the caller's signature of it is kept here and served to
    /// the caller alone, as for a local user.
    /// </remarks>
    public async Task<JsonObject> UploadSignaturesAsync(string callerUserId, JsonObject body, CancellationToken cancellationToken)
    {
        var others = body
            .Select(user => user.Key)
            .Where(userId => userId != callerUserId && UserId.TryParse(userId, out _))
            .ToDictionary(userId => userId, _ => (IReadOnlyList<string>)[], StringComparer.Ordinal);
        var answered = others.Count == 0
            ? null
            : await _keyQueries.QueryAsync(callerUserId, others, FederatedKeys.DefaultTimeout, cancellationToken);
        return UploadSignatures(callerUserId, body, answered?.MasterKeys ?? []);
    }

    /// <param name="queriedMasterKeys">The other users' master keys as a key query answered them, for users of other servers.</param>
    private JsonObject UploadSignatures(string callerUserId, JsonObject body, JsonObject queriedMasterKeys)
    {
        var failures = new JsonObject();
        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            var ownDevices = new SortedSet<string>(StringComparer.Ordinal);
            var ownMaster = false;
            var others = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var (targetUserId, targets) in body)
            {
                if (targets is not JsonObject byKey)
                    throw MatrixException.BadJson("Each user must map key ids to signed keys.");
                foreach (var (target, signed) in byKey)
                {
                    try
                    {
                        if (signed is not JsonObject signedKey)
                            throw MatrixException.BadJson("A signed key must be an object.");
                        KeyJson.RequireSignatures(signedKey["signatures"], target);
                        if (targetUserId == callerUserId)
                        {
                            switch (SignOwnKey(batch, callerUserId, target, signedKey))
                            {
                                case SignedKey.MasterKey:
                                    ownMaster = true;
                                    break;
                                case SignedKey.Device:
                                    ownDevices.Add(target);
                                    break;
                            }
                        }
                        else
                        {
                            SignOthersMasterKey(batch, callerUserId, targetUserId, target, signedKey, WellFormedMaster(queriedMasterKeys[targetUserId], targetUserId));
                            others.Add(targetUserId);
                        }
                    }
                    catch (MatrixException e)
                    {
                        if (failures[targetUserId] is not JsonObject userFailures)
                            failures[targetUserId] = userFailures = [];
                        userFailures[target] = e.ToBody();
                    }
                }
            }
            if (ownDevices.Count > 0 || ownMaster)
                _keys.RecordLocalChange(batch, callerUserId, ownDevices, ownMaster);
            foreach (var userId in others)
                _keys.RecordChange(batch, userId, onlyFor: callerUserId);
            if (!batch.IsEmpty)
                _keys.Store.Commit(batch);
        }
        return failures;
    }

    /// <summary>The unpadded base64 public key a cross-signing key is published under (its only <c>ed25519:</c> key).</summary>
    internal static string PublicKeyOf(JsonObject key) =>
        ((JsonObject)key["keys"]!).First().Key[(KeyJson.Ed25519.Length + 1)..];

    /// <summary>
    /// A master key another server answered for <paramref name="userId"/>, or null unless it has the
    /// shape this server requires of its own users' master keys.
    /// </summary>
    internal static JsonObject? WellFormedMaster(JsonNode? answered, string userId)
    {
        if (answered is not JsonObject key)
            return null;
        try
        {
            Validate(key, userId, DeviceKeyStore.Master);
            return key;
        }
        catch (MatrixException)
        {
            return null;
        }
    }

    private static VerifyKey VerifyKeyOf(JsonObject key) => KeyJson.Ed25519Key(key, PublicKeyOf(key))!;

    private void Store(string userId, List<(string Usage, JsonObject Key)> uploads)
    {
        lock (_keys.Gate)
        {
            using var batch = new WriteBatch();
            foreach (var (usage, key) in uploads)
            {
                // Signatures of a replaced key are of a key nobody publishes any more.
                if (_keys.GetCrossSigningKey(userId, usage) is { } old && PublicKeyOf(old) != PublicKeyOf(key))
                    _keys.RemoveSignatures(batch, userId, PublicKeyOf(old));
                _keys.PutCrossSigningKey(batch, userId, usage, key);
            }
            // The user-signing key is the user's own business: other servers are told of the other two.
            _keys.RecordLocalChange(batch, userId, [], crossSigningKeys: uploads.Any(u => u.Usage != DeviceKeyStore.UserSigning));
            _keys.Store.Commit(batch);
        }
    }

    /// <summary>A signature by the caller of their own master key (by a device) or of one of their devices (by the self-signing key).</summary>
    private SignedKey SignOwnKey(WriteBatch batch, string userId, string target, JsonObject signed)
    {
        if (_keys.GetCrossSigningKey(userId, DeviceKeyStore.Master) is { } master && PublicKeyOf(master) == target)
        {
            RequireSameKey(master, signed);
            var stored = false;
            var own = signed["signatures"]![userId] as JsonObject ?? [];
            foreach (var (keyId, signature) in own)
            {
                if (keyId == $"{KeyJson.Ed25519}:{target}")
                    continue;
                var deviceId = keyId.StartsWith(KeyJson.Ed25519 + ":", StringComparison.Ordinal)
                    ? keyId[(KeyJson.Ed25519.Length + 1)..]
                    : throw new MatrixException(ErrorCode.InvalidSignature, $"{keyId} is not an Ed25519 device key.");
                var device = _keys.GetDeviceKeys(userId, deviceId) ?? throw MatrixException.NotFound($"Unknown device {deviceId}.");
                var deviceKey = KeyJson.Ed25519Key(device, deviceId) ?? throw MatrixException.NotFound($"Device {deviceId} has no Ed25519 key.");
                if (!JsonSigning.Verify(signed, userId, deviceKey))
                    throw new MatrixException(ErrorCode.InvalidSignature, "Invalid signature.");
                _keys.PutSignature(batch, userId, target, userId, keyId, (string)signature!);
                stored = true;
            }
            return stored ? SignedKey.MasterKey : SignedKey.None;
        }

        var deviceKeys = _keys.GetDeviceKeys(userId, target) ?? throw MatrixException.NotFound($"Unknown device or key {target}.");
        var selfSigning = _keys.GetCrossSigningKey(userId, DeviceKeyStore.SelfSigning)
            ?? throw MatrixException.NotFound("There is no self-signing key to check the signature against.");
        RequireSameKey(deviceKeys, signed);
        StoreVerified(batch, signed, userId, selfSigning, userId, target);
        return SignedKey.Device;
    }

    /// <summary>A signature by the caller's user-signing key of another user's master key (a local user's as stored, else as queried).</summary>
    private void SignOthersMasterKey(WriteBatch batch, string callerUserId, string targetUserId, string target, JsonObject signed, JsonObject? queriedMaster)
    {
        var userSigning = _keys.GetCrossSigningKey(callerUserId, DeviceKeyStore.UserSigning)
            ?? throw MatrixException.NotFound("There is no user-signing key to check the signature against.");
        var master = _keys.GetCrossSigningKey(targetUserId, DeviceKeyStore.Master) ?? queriedMaster
            ?? throw MatrixException.NotFound($"{targetUserId} has no master key.");
        if (PublicKeyOf(master) != target)
            throw new MatrixException(ErrorCode.InvalidSignature, $"{target} is not the master key of {targetUserId}.");
        RequireSameKey(master, signed);
        StoreVerified(batch, signed, callerUserId, userSigning, targetUserId, target);
    }

    /// <summary>Checks the signature of <paramref name="signer"/>'s key over the object and stores it for the target.</summary>
    private void StoreVerified(WriteBatch batch, JsonObject signed, string signer, JsonObject signingKey, string targetUserId, string target)
    {
        var verifyKey = VerifyKeyOf(signingKey);
        if (JsonSigning.Check(signed, signer, verifyKey) != SignatureCheck.Valid)
            throw new MatrixException(ErrorCode.InvalidSignature, "Invalid signature.");
        var signature = (string)signed["signatures"]![signer]![verifyKey.KeyId]!;
        _keys.PutSignature(batch, targetUserId, target, signer, verifyKey.KeyId, signature);
    }

    private static void RequireSameKey(JsonObject stored, JsonObject signed)
    {
        if (!KeyJson.SameSignedContent(stored, signed))
            throw new MatrixException(ErrorCode.InvalidSignature, "The signed key does not match the stored key.");
    }

    private static void Validate(JsonObject key, string userId, string usage)
    {
        var what = $"{usage}_key";
        if (KeyJson.RequireString(key, "user_id", what) != userId)
            throw MatrixException.InvalidParam($"{what}.user_id is not the caller's user id.");
        if (key["usage"] is not JsonArray usages || !usages.Any(u => u is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == usage))
            throw MatrixException.InvalidParam($"{what}.usage must include {usage}.");
        var keys = KeyJson.RequireStringMap(key["keys"], $"{what}.keys");
        if (keys.Count != 1)
            throw MatrixException.InvalidParam($"{what}.keys must hold exactly one key.");
        var (keyId, value) = keys.First();
        if (keyId != $"{KeyJson.Ed25519}:{(string)value!}" || KeyJson.Ed25519Key(key, (string)value!) is null)
            throw MatrixException.InvalidParam($"{what}.keys must hold one Ed25519 key published under its own public key.");
        if (key["signatures"] is not null)
            KeyJson.RequireSignatures(key["signatures"], what);
        KeyJson.Canonical(key);
    }

    /// <summary>Which of the caller's own keys a signature upload signed.</summary>
    private enum SignedKey
    {
        None,
        MasterKey,
        Device,
    }
}
