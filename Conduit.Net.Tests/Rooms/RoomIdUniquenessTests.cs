using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Services.ServerKeys;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Ephemeral;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// Room version 12 ids are the hash of the create event: two rooms created alike by one user in the
/// same millisecond must still get two ids. The clock is frozen so that they would collide.
/// </summary>
public sealed class RoomIdUniquenessTests
{
    private string _directory = null!;
    private KvStore _store = null!;
    private ServerKeyService _keys = null!;
    private RoomEvents _events = null!;

    [SetUp]
    public void Open()
    {
        _directory = Path.Combine(Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));
        _store = KvStore.Open(_directory);
        var config = new ServerConfig { DatabasePath = _directory };
        var time = new ManualTime();
        _keys = new ServerKeyService(_store, config, time, NullLogger<ServerKeyService>.Instance);
        _events = new RoomEvents(_store, config, _keys, time, [], []);
    }

    [TearDown]
    public void Close()
    {
        _keys.Dispose();
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static EventDraft Create(string userId) =>
        new("m.room.create", "", userId, new JsonObject { ["room_version"] = "12" });

    [Test]
    public async Task Two_identical_creations_in_one_millisecond_get_two_room_ids_whether_or_not_the_first_committed()
    {
        using var first = _events.NewRoom(RoomVersion.V12, null);
        using var second = _events.NewRoom(RoomVersion.V12, null);
        first.Append(Create("@alice:localhost"));
        second.Append(Create("@alice:localhost"));
        Assert.That(second.Room!.RoomId, Is.Not.EqualTo(first.Room!.RoomId), "both under way");

        await first.CommitAsync();
        await second.CommitAsync();
        using var third = _events.NewRoom(RoomVersion.V12, null);
        third.Append(Create("@alice:localhost"));
        Assert.That(new[] { first.Room.RoomId, second.Room.RoomId, third.Room!.RoomId }, Is.Unique, "after both committed");
    }

    [Test]
    public void An_abandoned_creation_frees_its_room_id()
    {
        string abandoned;
        using (var first = _events.NewRoom(RoomVersion.V12, null))
        {
            first.Append(Create("@alice:localhost"));
            abandoned = first.Room!.RoomId;
        }
        using var again = _events.NewRoom(RoomVersion.V12, null);
        again.Append(Create("@alice:localhost"));
        Assert.That(again.Room!.RoomId, Is.EqualTo(abandoned));
    }
}
