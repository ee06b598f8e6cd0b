using System.Text.Json.Nodes;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.Keys;

/// <summary>A one-time key as stored: where it sits in the tree, its id (<c>algorithm:id</c>) and the key itself.</summary>
internal sealed record StoredOneTimeKey(byte[] StoreKey, string KeyId, JsonNode Key);

/// <summary>A device's fallback key for one algorithm, and whether a claim has handed it out.</summary>
internal sealed record StoredFallbackKey(string KeyId, JsonNode Key, bool Used);

/// <summary>One device's change in a device list: its position (<c>stream_id</c>) and the one before (<c>prev_id</c>, 0 for none).</summary>
internal sealed record DeviceUpdate(string DeviceId, ulong StreamId, ulong PrevId);

/// <summary>A local user's device-list change: the devices whose keys, names or existence changed, or their cross-signing keys.</summary>
internal sealed record DeviceListChange(string UserId, IReadOnlyList<DeviceUpdate> Devices, bool CrossSigningKeys);

/// <summary>
/// The Keys area's trees, typed: device keys, one-time and fallback keys, cross-signing keys,
/// uploaded signatures and the device-list change stream; plus the one lock that serializes every
/// read-check-write on them, so that a one-time key is handed out once. Constructible from the
/// store alone: it follows device removals for the CLI's verbs as well as for the server.
/// </summary>
public sealed class DeviceKeyStore : IDeviceObserver
{
    public const string Master = "master";
    public const string SelfSigning = "self_signing";
    public const string UserSigning = "user_signing";

    private readonly KvStore _store;
    private readonly KvTree _deviceKeys;
    private readonly KvTree _oneTimeKeys;
    private readonly KvTree _fallbackKeys;
    private readonly KvTree _crossSigning;
    private readonly KvTree _signatures;
    private readonly KvTree _changes;
    private readonly KvTree _positions;

    public DeviceKeyStore(KvStore store)
    {
        _store = store;
        _deviceKeys = store.Tree(Trees.DeviceKeys);
        _oneTimeKeys = store.Tree(Trees.OneTimeKeys);
        _fallbackKeys = store.Tree(Trees.FallbackKeys);
        _crossSigning = store.Tree(Trees.CrossSigningKeys);
        _signatures = store.Tree(Trees.KeySignatures);
        _changes = store.Tree(Trees.DeviceListChanges);
        _positions = store.Tree(Trees.DeviceListPositions);
    }

    /// <summary>Held around every read-check-write of these trees and its commit; never across an await.</summary>
    internal Lock Gate { get; } = new();

    internal KvStore Store => _store;

    internal JsonObject? GetDeviceKeys(string userId, string deviceId) =>
        Parse(_deviceKeys.Get(KeyCodec.Join(userId, deviceId))) as JsonObject;

    /// <summary>Every device of the user that uploaded keys, with the keys as uploaded.</summary>
    internal IEnumerable<(string DeviceId, JsonObject Keys)> AllDeviceKeys(string userId) =>
        _deviceKeys.ScanPrefix(KeyCodec.Prefix(userId)).Select(e => (KeyCodec.SplitUtf8(e.Key)[1], (JsonObject)Parse(e.Value)!));

    internal void PutDeviceKeys(WriteBatch batch, string userId, string deviceId, JsonObject keys) =>
        batch.Put(_deviceKeys, KeyCodec.Join(userId, deviceId), Serialize(keys));

    /// <summary>The device's unclaimed one-time keys, every algorithm, each algorithm oldest first.</summary>
    internal IEnumerable<StoredOneTimeKey> OneTimeKeys(string userId, string deviceId, string? algorithm = null)
    {
        var prefix = algorithm is null ? KeyCodec.Prefix(userId, deviceId) : KeyCodec.Prefix(userId, deviceId, algorithm);
        foreach (var (key, value) in _oneTimeKeys.ScanPrefix(prefix))
            yield return new StoredOneTimeKey(key, OneTimeKeyIdOf(key), Parse(value)!);
    }

    internal void PutOneTimeKey(WriteBatch batch, string userId, string deviceId, string algorithm, ulong position, string keyId, JsonNode key) =>
        batch.Put(_oneTimeKeys, [.. KeyCodec.Prefix(userId, deviceId, algorithm), .. KeyCodec.U64(position), .. KeyCodec.Utf8(keyId)], Serialize(key));

    internal void RemoveOneTimeKey(WriteBatch batch, StoredOneTimeKey key) => batch.Remove(_oneTimeKeys, key.StoreKey);

    /// <summary>The device's fallback keys by algorithm.</summary>
    internal IEnumerable<(string Algorithm, StoredFallbackKey Key)> FallbackKeys(string userId, string deviceId) =>
        _fallbackKeys.ScanPrefix(KeyCodec.Prefix(userId, deviceId)).Select(e => (KeyCodec.SplitUtf8(e.Key)[2], DecodeFallback(e.Value)));

    internal StoredFallbackKey? FallbackKey(string userId, string deviceId, string algorithm) =>
        _fallbackKeys.Get(KeyCodec.Join(userId, deviceId, algorithm)) is { } value ? DecodeFallback(value) : null;

    internal void PutFallbackKey(WriteBatch batch, string userId, string deviceId, string algorithm, StoredFallbackKey key)
    {
        var keyId = KeyCodec.Utf8(key.KeyId);
        var json = Serialize(key.Key);
        batch.Put(_fallbackKeys, KeyCodec.Join(userId, deviceId, algorithm), [key.Used ? (byte)1 : (byte)0, .. keyId, KeyCodec.Separator, .. json]);
    }

    /// <summary>The user's cross-signing key with this usage, as uploaded.</summary>
    internal JsonObject? GetCrossSigningKey(string userId, string usage) =>
        Parse(_crossSigning.Get(KeyCodec.Join(userId, usage))) as JsonObject;

    internal void PutCrossSigningKey(WriteBatch batch, string userId, string usage, JsonObject key) =>
        batch.Put(_crossSigning, KeyCodec.Join(userId, usage), Serialize(key));

    /// <summary>Signatures uploaded for a device or cross-signing key: (signing user, key id, signature).</summary>
    internal IEnumerable<(string Signer, string KeyId, string Signature)> Signatures(string userId, string target) =>
        _signatures.ScanPrefix(KeyCodec.Prefix(userId, target)).Select(e =>
        {
            var parts = KeyCodec.SplitUtf8(e.Key);
            return (parts[2], parts[3], KeyCodec.ReadUtf8(e.Value));
        });

    internal void PutSignature(WriteBatch batch, string userId, string target, string signer, string keyId, string signature) =>
        batch.Put(_signatures, KeyCodec.Join(userId, target, signer, keyId), KeyCodec.Utf8(signature));

    internal void RemoveSignatures(WriteBatch batch, string userId, string target)
    {
        foreach (var (key, _) in _signatures.ScanPrefix(KeyCodec.Prefix(userId, target)))
            batch.Remove(_signatures, key);
    }

    /// <summary>
    /// A local user's device list changed, staged in the batch: the federation side tells the
    /// servers that share a room with the user once it commits.
    /// </summary>
    internal event Action<WriteBatch, DeviceListChange>? LocalChange;

    /// <summary>
    /// Records a change of the user's device list at a new position of the batch, replacing the
    /// user's previous entry so that the stream holds each user once. A change that concerns one
    /// user only (their signature of another user's master key, which nobody else sees) names
    /// that user as <paramref name="onlyFor"/>; it has an entry of its own. A remote user's change
    /// (told by their server) is recorded this way too, for the local users' syncs.
    /// </summary>
    internal void RecordChange(WriteBatch batch, string userId, string? onlyFor = null) =>
        Record(batch, onlyFor is null ? KeyCodec.Utf8(userId) : KeyCodec.Join(userId, onlyFor), _store.NextCount(batch));

    /// <summary>
    /// Records a change of a local user's device list: of the keys, name or existence of
    /// <paramref name="deviceIds"/>, and with <paramref name="crossSigningKeys"/> of their master or
    /// self-signing key. Each device takes a position of its own, in order, each following the
    /// previous one (the last is the user's device-list position), so that other servers can chain
    /// the updates by <c>prev_id</c>.
    /// </summary>
    internal void RecordLocalChange(WriteBatch batch, string userId, IReadOnlyCollection<string> deviceIds, bool crossSigningKeys = false)
    {
        var previous = DeviceListPosition(userId);
        var updates = new List<DeviceUpdate>(deviceIds.Count);
        foreach (var deviceId in deviceIds)
        {
            var position = _store.NextCount(batch);
            updates.Add(new DeviceUpdate(deviceId, position, previous));
            previous = position;
        }
        Record(batch, KeyCodec.Utf8(userId), updates.Count > 0 ? previous : _store.NextCount(batch));
        LocalChange?.Invoke(batch, new DeviceListChange(userId, updates, crossSigningKeys));
    }

    private void Record(WriteBatch batch, byte[] entry, ulong position)
    {
        if (_positions.Get(entry) is { } previous)
            batch.Remove(_changes, previous);
        batch.Put(_changes, KeyCodec.U64(position), entry);
        batch.Put(_positions, entry, KeyCodec.U64(position));
    }

    /// <summary>
    /// The position of the user's last device-list change that everyone sees, 0 before the first: the
    /// version of their device list that other servers get as <c>stream_id</c>.
    /// </summary>
    internal ulong DeviceListPosition(string userId) =>
        _positions.Get(KeyCodec.Utf8(userId)) is { } position ? KeyCodec.ReadU64(position) : 0;

    /// <summary>
    /// Users whose device list changed at a position in (<paramref name="since"/>, <paramref name="upTo"/>],
    /// with the one user the change concerns when it concerns only one.
    /// </summary>
    internal IEnumerable<(string UserId, string? OnlyFor)> ChangedUsers(ulong since, ulong upTo) =>
        upTo <= since
            ? []
            : _changes.ScanRange(KeyCodec.U64(since + 1), KeyCodec.U64(upTo + 1)).Select(e =>
            {
                var parts = KeyCodec.SplitUtf8(e.Value);
                return (parts[0], parts.Length > 1 ? parts[1] : null);
            });

    /// <summary>Completes at the first device-list change committed after this call (one-shot; see <see cref="KvStore.WatchPrefix"/>).</summary>
    internal Task WatchChanges(CancellationToken cancellationToken) => _store.WatchPrefix(_changes, [], cancellationToken);

    /// <summary>The devices' keys, one-time and fallback keys and the signatures of them go with the devices.</summary>
    public void DevicesRemoved(WriteBatch batch, string userId, IReadOnlyCollection<string> deviceIds)
    {
        var withKeys = new List<string>();
        foreach (var deviceId in deviceIds)
        {
            var deviceKey = KeyCodec.Join(userId, deviceId);
            if (_deviceKeys.Get(deviceKey) is not null)
                withKeys.Add(deviceId);
            batch.Remove(_deviceKeys, deviceKey);
            foreach (var (key, _) in _oneTimeKeys.ScanPrefix(KeyCodec.Prefix(userId, deviceId)))
                batch.Remove(_oneTimeKeys, key);
            foreach (var (key, _) in _fallbackKeys.ScanPrefix(KeyCodec.Prefix(userId, deviceId)))
                batch.Remove(_fallbackKeys, key);
            RemoveSignatures(batch, userId, deviceId);
        }
        if (withKeys.Count > 0)
            RecordLocalChange(batch, userId, withKeys);
    }

    /// <summary>A device's display name is part of what <c>/keys/query</c> reports, so a rename of a device with keys is a change.</summary>
    public void DeviceRenamed(WriteBatch batch, string userId, string deviceId)
    {
        if (_deviceKeys.Get(KeyCodec.Join(userId, deviceId)) is not null)
            RecordLocalChange(batch, userId, [deviceId]);
    }

    internal static byte[] Serialize(JsonNode node) => System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());

    private static JsonNode? Parse(byte[]? bytes) => bytes is null ? null : JsonNode.Parse(bytes);

    private static string OneTimeKeyIdOf(byte[] key)
    {
        // Key layout: user 0xFF device 0xFF algorithm 0xFF position(8) keyId; the position may hold 0xFF bytes.
        var separators = 0;
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == KeyCodec.Separator && ++separators == 3)
                return KeyCodec.ReadUtf8(key.AsSpan(i + 1 + 8));
        }
        throw new InvalidDataException("A one-time key entry without its key id.");
    }

    private static StoredFallbackKey DecodeFallback(byte[] value)
    {
        var rest = value.AsSpan(1);
        var separator = rest.IndexOf(KeyCodec.Separator);
        return new StoredFallbackKey(KeyCodec.ReadUtf8(rest[..separator]), JsonNode.Parse(rest[(separator + 1)..])!, value[0] == 1);
    }
}
