using System.Text.Json.Nodes;
using Conduit.Net.Services.ToDevice;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the to-device stream: <c>to_device.events</c> from the syncing device's inbox,
/// oldest first, each until a later sync acknowledges it. A response that holds some back counts
/// as news, so that a long-poll with its token returns the rest at once.
/// </summary>
public sealed class ToDeviceProvider : ISyncProvider
{
    private readonly ToDeviceInbox _inbox;

    public ToDeviceProvider(ToDeviceInbox inbox) => _inbox = inbox;

    public void Watch(SyncWatch watch) => watch.Add(_inbox.Watch(watch.UserId, watch.DeviceId, watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var batch = _inbox.Deliver(pass.UserId, pass.Request.DeviceId, pass.Since, pass.UpTo);
        var events = new JsonArray();
        foreach (var message in batch.Messages)
            events.Add((JsonNode)message.Event);
        pass.Response.SetSection("to_device", new JsonObject { ["events"] = events }, news: batch.Messages.Count > 0 || batch.Limited);
    }
}
