using System.Text.Json.Nodes;
using Conduit.Net.Config;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Rooms;

/// <summary>
/// The storage model's promise for big rooms: an event's state is a pointer to a snapshot, and a
/// state change writes a diff, never a copy of the room's whole state.
/// </summary>
public sealed class BigRoomStorageTests
{
    private const int Members = 10_000;

    private TestServer _server = null!;
    private TestSession _alice = null!;
    private string _roomId = null!;

    [OneTimeSetUp]
    public async Task StartWithABigRoom()
    {
        // Joins go straight to the append path (the users need no accounts) in batches of 100, with
        // the page-cache durability that keeps 10,000 appends quick; the layout is what is measured.
        _server = await TestServer.StartAsync(c => c with { Durability = Durability.Fast });
        _alice = await _server.RegisterAsync(Accounts.UniqueName("host"));
        _roomId = await _server.CreateRoomAsync(_alice, new JsonObject { ["preset"] = "public_chat" });
        var events = _server.Host.Services.GetRequiredService<RoomEvents>();
        for (var batch = 0; batch < Members / 100; batch++)
        {
            using var append = (await events.LockAsync(_roomId, CancellationToken.None))!;
            for (var i = 0; i < 100; i++)
            {
                var user = $"@member{(batch * 100) + i}:localhost";
                append.Append(new EventDraft("m.room.member", user, user, new JsonObject { ["membership"] = "join" }));
            }
            await append.CommitAsync();
        }
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private KvTree Tree(string name) => _server.Host.Services.GetRequiredService<KvStore>().Tree(name);

    private (int Entries, long Bytes) Measure(string tree)
    {
        var entries = 0;
        long bytes = 0;
        foreach (var (key, value) in Tree(tree).ScanPrefix([]))
        {
            entries++;
            bytes += key.Length + value.Length;
        }
        return (entries, bytes);
    }

    [Test]
    public async Task The_room_has_ten_thousand_and_one_joined_members()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(_roomId)}/joined_members", accessToken: _alice.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body!["joined"]!.AsObject(), Has.Count.EqualTo(Members + 1));
    }

    [Test]
    public async Task A_message_in_a_room_of_ten_thousand_members_writes_no_state_snapshot_and_a_small_event_record()
    {
        var diffsBefore = Measure(Trees.StateDiffs);
        var hashesBefore = Measure(Trees.StateHashToShort);
        var recordsBefore = Measure(Trees.EventIndex);

        await _server.SendTextAsync(_alice, _roomId, "hello, everyone", "txn-big-room");

        Assert.That(Measure(Trees.StateDiffs), Is.EqualTo(diffsBefore), "no new snapshot layer");
        Assert.That(Measure(Trees.StateHashToShort), Is.EqualTo(hashesBefore));
        var recordsAfter = Measure(Trees.EventIndex);
        Assert.That(recordsAfter.Entries, Is.EqualTo(recordsBefore.Entries + 1));

        // 8-byte key; room, position and the 8-byte pointer to the room's snapshot; device and txn id.
        var deviceAndTxn = _alice.DeviceId.Length + 1 + "txn-big-room".Length;
        Assert.That(recordsAfter.Bytes - recordsBefore.Bytes, Is.EqualTo(8 + 24 + deviceAndTxn), "the message's state is a pointer to the room's snapshot");
    }

    [Test]
    public async Task State_changes_in_a_room_of_ten_thousand_members_write_diffs_not_copies()
    {
        const int changes = 100;
        var fullCopy = (long)(Members + 10) * 16;
        var before = Measure(Trees.StateDiffs);

        for (var i = 0; i < changes; i++)
            await _server.PutStateAsync(_alice, _roomId, "m.room.topic", "", new JsonObject { ["topic"] = $"topic {i}" });

        var after = Measure(Trees.StateDiffs);
        TestContext.Out.WriteLine($"{changes} topic changes in a room of {Members + 1} members wrote {after.Bytes - before.Bytes} bytes of snapshot layers (one full copy: {fullCopy}); all layers: {after.Entries}, {after.Bytes} bytes");
        Assert.That(after.Entries - before.Entries, Is.EqualTo(changes), "one snapshot per state change");
        Assert.That(after.Bytes - before.Bytes, Is.LessThan(2 * fullCopy),
            $"{changes} state changes wrote {after.Bytes - before.Bytes} bytes of snapshots; copying the state each time would be {changes * fullCopy}");
    }
}
