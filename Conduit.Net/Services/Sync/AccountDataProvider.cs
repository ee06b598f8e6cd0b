using System.Text.Json.Nodes;
using Conduit.Net.Services.AccountData;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the account data stream: global account data into <c>account_data</c>, room account data into
/// the <c>account_data</c> of joined rooms (and of rooms the response reports as left), each filtered
/// by its part of the filter. A room reported from scratch gets all of its account data, not only
/// what changed in the window.
/// </summary>
public sealed class AccountDataProvider : ISyncProvider
{
    private readonly AccountDataService _accountData;

    public AccountDataProvider(AccountDataService accountData) => _accountData = accountData;

    public void Watch(SyncWatch watch) => watch.Add(_accountData.Watch(watch.UserId, watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var since = pass.Since ?? 0;
        foreach (var entry in _accountData.ChangesSince(pass.UserId, since, pass.UpTo))
        {
            if (entry.RoomId is null)
            {
                if (pass.Filter.AccountData.Matches(entry.Type, null))
                    pass.Response.AddAccountData(entry.ToEvent());
            }
            else
            {
                WriteRoomEntry(pass, entry);
            }
        }

        // Rooms joined within the window: what was set for them before it.
        if (since > 0 && pass.FullRooms.Count > 0)
        {
            foreach (var entry in _accountData.ChangesSince(pass.UserId, 0, since))
            {
                if (entry.RoomId is { } roomId && pass.FullRooms.Contains(roomId))
                    WriteRoomEntry(pass, entry);
            }
        }
    }

    private static void WriteRoomEntry(SyncPass pass, AccountDataEntry entry)
    {
        var roomId = entry.RoomId!;
        if (!pass.Filter.Room.IncludesRoom(roomId) || !pass.Filter.Room.AccountData.Matches(roomId, entry.Type, null, hasUrl: false))
            return;
        JsonObject room;
        if (pass.Response.HasLeftRoom(roomId))
            room = pass.Response.LeftRoom(roomId);
        else if (pass.JoinedRooms.Contains(roomId))
            room = pass.Response.JoinedRoom(roomId);
        else
            return;
        ((JsonArray)room["account_data"]!["events"]!).Add((JsonNode)entry.ToEvent());
    }
}
