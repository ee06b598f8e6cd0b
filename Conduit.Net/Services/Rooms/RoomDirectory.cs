using Conduit.Net.Storage;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Which rooms are published in this server's room directory (createRoom's <c>visibility</c>; the
/// <c>/directory/list/room</c> and <c>/publicRooms</c> endpoints read and change it).
/// </summary>
public sealed class RoomDirectory
{
    private readonly KvStore _store;
    private readonly KvTree _published;

    public RoomDirectory(KvStore store)
    {
        _store = store;
        _published = store.Tree(Trees.PublishedRooms);
    }

    public bool IsPublished(string roomId) => _published.ContainsKey(KeyCodec.Utf8(roomId));

    /// <summary>Publishes or unpublishes the room in <paramref name="write"/>.</summary>
    public void SetPublished(string roomId, bool published, RoomWrite write)
    {
        if (published)
            write.Batch.Put(_published, KeyCodec.Utf8(roomId), []);
        else
            write.Batch.Remove(_published, KeyCodec.Utf8(roomId));
    }

    /// <summary>Publishes or unpublishes the room, committed on its own.</summary>
    public void SetPublished(string roomId, bool published)
    {
        using var write = new RoomWrite();
        SetPublished(roomId, published, write);
        write.Commit(_store);
    }

    /// <summary>Every published room id, in byte order.</summary>
    public IEnumerable<string> Published() => _published.ScanPrefix([]).Select(e => KeyCodec.ReadUtf8(e.Key));
}
