using System.Globalization;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Keys;
using Conduit.Net.Services.Users;
using Conduit.Net.Storage;

namespace Conduit.Net.Services.ToDevice;

/// <summary>A user's dehydrated device: its id and the encrypted device data only the user's clients can read.</summary>
public sealed record DehydratedDevice(string DeviceId, JsonObject DeviceData);

/// <summary>One page of a dehydrated device's to-device messages and the token of the next page.</summary>
public sealed record DehydratedDeviceEvents(IReadOnlyList<JsonObject> Events, string NextBatch);

/// <summary>
/// Dehydrated devices (MSC3814): at most one per user, a device without tokens that other users'
/// clients send room keys to while the user has no client running. A new client reads its
/// to-device messages page by page without deleting them, then replaces it. The record
/// (<see cref="Trees.DehydratedDevices"/>) names the device; the device, its keys and its inbox
/// live with Users, Keys and <see cref="ToDeviceInbox"/>, which all let go of it when it is removed.
/// </summary>
public sealed class DehydratedDeviceService
{
    private readonly KvTree _records;
    private readonly DeviceService _devices;
    private readonly KeyService _keys;
    private readonly ToDeviceInbox _inbox;

    /// <summary>Serializes the replacement of one user's dehydrated device; striped by user.</summary>
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];

    public DehydratedDeviceService(KvStore store, DeviceService devices, KeyService keys, ToDeviceInbox inbox)
    {
        _records = store.Tree(Trees.DehydratedDevices);
        _devices = devices;
        _keys = keys;
        _inbox = inbox;
    }

    /// <summary>
    /// <c>PUT /dehydrated_device</c>: replaces the user's dehydrated device by a new one with these
    /// keys (as <c>/keys/upload</c> takes them). An id of another device of the user is 400
    /// <c>M_INVALID_PARAM</c>; keys <c>/keys/upload</c> would refuse take the new device away again.
    /// </summary>
    public void Put(string userId, DehydratedDevice device, string? displayName, JsonObject? deviceKeys, JsonObject? oneTimeKeys, JsonObject? fallbackKeys)
    {
        lock (Stripe(userId))
        {
            var old = Current(userId);
            if (old?.DeviceId != device.DeviceId && _devices.List(userId).Any(d => d.DeviceId == device.DeviceId))
                throw MatrixException.InvalidParam("device_id names another device of the user.");
            if (old is not null)
                _devices.Remove(userId, [old.DeviceId]);
            _devices.AddWithoutTokens(userId, device.DeviceId, displayName);
            try
            {
                _keys.Upload(userId, device.DeviceId, deviceKeys, oneTimeKeys, fallbackKeys);
            }
            catch
            {
                _devices.Remove(userId, [device.DeviceId]);
                _records.Remove(KeyCodec.Utf8(userId));
                throw;
            }
            var record = new JsonObject { ["device_id"] = device.DeviceId, ["device_data"] = device.DeviceData.DeepClone() };
            _records.Put(KeyCodec.Utf8(userId), KeyCodec.Utf8(record.ToJsonString()));
        }
    }

    /// <summary><c>GET /dehydrated_device</c>: 404 <c>M_NOT_FOUND</c> when the user has none.</summary>
    public DehydratedDevice Get(string userId) => Current(userId) ?? throw NotFound();

    /// <summary><c>DELETE /dehydrated_device</c>: removes the device with its keys and messages; returns its id.</summary>
    public string Delete(string userId)
    {
        lock (Stripe(userId))
        {
            var device = Current(userId) ?? throw NotFound();
            _devices.Remove(userId, [device.DeviceId]);
            _records.Remove(KeyCodec.Utf8(userId));
            return device.DeviceId;
        }
    }

    /// <summary>
    /// <c>POST /dehydrated_device/{deviceId}/events</c>: the messages after <paramref name="nextBatch"/>
    /// (from the start when null), none deleted; an empty page means all were read. Any device but
    /// the user's dehydrated one is 403 <c>M_FORBIDDEN</c>.
    /// </summary>
    public DehydratedDeviceEvents Events(string userId, string deviceId, string? nextBatch)
    {
        if (Current(userId)?.DeviceId != deviceId)
            throw MatrixException.Forbidden("This is not the user's dehydrated device.");
        ulong after = 0;
        if (nextBatch is not null && (!nextBatch.All(char.IsAsciiDigit) || !ulong.TryParse(nextBatch, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
            throw MatrixException.InvalidParam("next_batch is not a token of this endpoint.");
        var page = _inbox.Page(userId, deviceId, after);
        var next = page.Count == 0 ? after : page[^1].Position;
        return new DehydratedDeviceEvents([.. page.Select(m => m.Event)], next.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The recorded dehydrated device while it still exists (a client may delete it through <c>/devices</c>).</summary>
    private DehydratedDevice? Current(string userId)
    {
        if (_records.Get(KeyCodec.Utf8(userId)) is not { } value)
            return null;
        var record = JsonNode.Parse(value)!.AsObject();
        var deviceId = (string)record["device_id"]!;
        if (!_devices.List(userId).Any(d => d.DeviceId == deviceId))
            return null;
        return new DehydratedDevice(deviceId, record["device_data"]!.AsObject());
    }

    private static MatrixException NotFound() => MatrixException.NotFound("No dehydrated device.");

    private Lock Stripe(string userId) => _stripes[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_stripes.Length];
}
