using Conduit.Net.Services.Ephemeral;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The provider of the typing stream: an <c>m.typing</c> event in the <c>ephemeral</c> of each
/// joined room whose typing set changed in the window (every room where someone types, for a room
/// reported from scratch), unless the room's ephemeral filter leaves <c>m.typing</c> out.
/// </summary>
public sealed class TypingProvider : ISyncProvider
{
    private const string Type = "m.typing";

    private readonly TypingService _typing;

    public TypingProvider(TypingService typing) => _typing = typing;

    public void Watch(SyncWatch watch) => watch.Add(_typing.Watch(watch.JoinedRooms, watch.CancellationToken));

    public void Write(SyncPass pass)
    {
        var (incremental, full) = EphemeralEvents.Rooms(pass, Type);
        foreach (var (roomId, ev) in _typing.ChangesSince(incremental, pass.Since ?? 0, pass.UpTo))
            EphemeralEvents.Add(pass, roomId, ev);
        foreach (var (roomId, ev) in _typing.ChangesSince(full, 0, pass.UpTo))
            EphemeralEvents.Add(pass, roomId, ev);
    }
}
