using System.Text.Json.Nodes;
using Conduit.Net.Services.Receipts;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the receipts stream: <c>m.receipt</c> events in the <c>ephemeral</c> of each
/// joined room with receipts written in the window (all of a room's receipts for a room reported
/// from scratch), unless the room's ephemeral filter leaves <c>m.receipt</c> out.
/// </summary>
public sealed class ReceiptsProvider : ISyncProvider
{
    private const string Type = "m.receipt";

    private readonly ReceiptService _receipts;

    public ReceiptsProvider(ReceiptService receipts) => _receipts = receipts;

    public void Watch(SyncWatch watch) => watch.Add(_receipts.Watch(watch.JoinedRooms, watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var (incremental, full) = EphemeralEvents.Rooms(pass, Type);
        Write(pass, _receipts.ChangesSince(pass.UserId, incremental, pass.Since ?? 0, pass.UpTo));
        Write(pass, _receipts.ChangesSince(pass.UserId, full, 0, pass.UpTo));
    }

    private static void Write(SyncPass pass, IReadOnlyDictionary<string, IReadOnlyList<JsonObject>> changes)
    {
        foreach (var (roomId, events) in changes)
        {
            foreach (var ev in events)
                EphemeralEvents.Add(pass, roomId, ev);
        }
    }
}
