using System.Text.Json.Nodes;
using Conduit.Net.Services.Keys;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the end-to-end key streams: the syncing device's one-time key counts and unused
/// fallback key types (always present: clients decide from them whether to upload more), and in
/// incremental syncs the <c>device_lists</c> changes that concern the user.
/// </summary>
public sealed class DeviceKeysProvider : ISyncProvider
{
    private readonly KeyService _keys;
    private readonly DeviceLists _deviceLists;

    public DeviceKeysProvider(KeyService keys, DeviceLists deviceLists)
    {
        _keys = keys;
        _deviceLists = deviceLists;
    }

    public void Watch(SyncWatch watch) => watch.Add(_deviceLists.Watch(watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var deviceId = pass.Request.DeviceId;
        var counts = new JsonObject();
        foreach (var (algorithm, count) in _keys.OneTimeKeyCounts(pass.UserId, deviceId))
            counts[algorithm] = count;
        pass.Response.SetSection("device_one_time_keys_count", counts, news: false);
        pass.Response.SetSection("device_unused_fallback_key_types",
            new JsonArray([.. _keys.UnusedFallbackKeyTypes(pass.UserId, deviceId).Select(t => (JsonNode?)t)]), news: false);

        var changes = pass.Since is { } since ? _deviceLists.Changes(pass.UserId, since, pass.UpTo) : new DeviceListChanges([], []);
        pass.Response.SetSection("device_lists", new JsonObject
        {
            ["changed"] = new JsonArray([.. changes.Changed.Select(u => (JsonNode?)u)]),
            ["left"] = new JsonArray([.. changes.Left.Select(u => (JsonNode?)u)]),
        }, news: changes.Changed.Count > 0 || changes.Left.Count > 0);
    }
}
