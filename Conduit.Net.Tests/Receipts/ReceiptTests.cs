using System.Text.Json.Nodes;
using Conduit.Net.Services.AccountData;
using Conduit.Net.Services.Receipts;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Ephemeral;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Receipts;

/// <summary>
/// Read receipts (<c>POST /rooms/{roomId}/receipt/{receiptType}/{eventId}</c>) and read markers
/// (<c>POST /rooms/{roomId}/read_markers</c>) over HTTP, and the receipt stream sync reads.
/// </summary>
public sealed class ReceiptTests : ServerFixture
{
    private ReceiptService Receipts => Server.Host.Services.GetRequiredService<ReceiptService>();

    private AccountDataService AccountData => Server.Host.Services.GetRequiredService<AccountDataService>();

    private ulong Now => Server.Host.Services.GetRequiredService<KvStore>().CommittedCount;

    private static string ReceiptPath(string roomId, string type, string eventId) =>
        $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/receipt/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(eventId)}";

    private static string MarkersPath(string roomId) => $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/read_markers";

    private Task<(int Status, JsonNode? Body)> ReceiptAsync(TestSession session, string roomId, string type, string eventId, JsonObject? body = null) =>
        Server.SendAsync(HttpMethod.Post, ReceiptPath(roomId, type, eventId), body ?? [], session.AccessToken);

    /// <summary>Two members of a fresh public room and a message by the first.</summary>
    private async Task<(TestSession Alice, TestSession Bob, string RoomId, string EventId)> RoomAsync()
    {
        var (alice, bob, roomId) = await Server.PublicRoomAsync("alice", "bob");
        var eventId = await Server.SendMessageAsync(alice, roomId, "hello");
        return (alice, bob, roomId, eventId);
    }

    /// <summary>The unthreaded receipts' event (or the only one) of the room in the reader's stream.</summary>
    private JsonObject? ReceiptEvent(TestSession reader, string roomId) => ReceiptEvents(reader, roomId) is [var first, ..] ? first : null;

    private IReadOnlyList<JsonObject> ReceiptEvents(TestSession reader, string roomId) =>
        Receipts.ChangesSince(reader.UserId, [roomId], 0, Now).GetValueOrDefault(roomId) ?? [];

    [Test]
    public async Task A_read_receipt_reaches_the_other_members_with_a_timestamp()
    {
        var (alice, bob, roomId, eventId) = await RoomAsync();
        var (status, body) = await ReceiptAsync(bob, roomId, "m.read", eventId);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));

        var receipt = ReceiptEvent(alice, roomId);
        Assert.That((string?)receipt?["type"], Is.EqualTo("m.receipt"));
        var entry = receipt?["content"]?[eventId]?["m.read"]?[bob.UserId]?.AsObject();
        Assert.That(entry, Is.Not.Null, receipt?.ToJsonString());
        Assert.That((long?)entry!["ts"], Is.GreaterThan(0));
        Assert.That(entry.ContainsKey("thread_id"), Is.False);
    }

    [Test]
    public async Task A_private_read_receipt_is_seen_by_its_owner_only()
    {
        var (alice, bob, roomId, eventId) = await RoomAsync();
        var (status, _) = await ReceiptAsync(bob, roomId, "m.read.private", eventId);
        Assert.That(status, Is.EqualTo(200));

        Assert.That(ReceiptEvent(alice, roomId), Is.Null);
        var own = ReceiptEvent(bob, roomId);
        Assert.That(own?["content"]?[eventId]?["m.read.private"]?[bob.UserId], Is.Not.Null, own?.ToJsonString());
    }

    [Test]
    public async Task Threaded_receipts_are_kept_apart_from_the_unthreaded_one_one_event_per_thread()
    {
        var (alice, bob, roomId, first) = await RoomAsync();
        var second = await Server.SendMessageAsync(alice, roomId, "second");
        await ReceiptAsync(bob, roomId, "m.read", first, new JsonObject { ["thread_id"] = "main" });
        await ReceiptAsync(bob, roomId, "m.read", second);
        await ReceiptAsync(bob, roomId, "m.read", second, new JsonObject { ["thread_id"] = first });

        var events = ReceiptEvents(alice, roomId);
        Assert.That(events, Has.Count.EqualTo(3), string.Join("\n", events.Select(e => e.ToJsonString())));
        var unthreaded = events[0]["content"]![second]!["m.read"]![bob.UserId]!.AsObject();
        Assert.That(unthreaded.ContainsKey("thread_id"), Is.False);
        var threads = events.Skip(1).Select(e => e["content"]!.AsObject().Single()).ToList();
        Assert.That(threads.Select(t => ((string)t.Value!["m.read"]![bob.UserId]!["thread_id"]!, t.Key)),
            Is.EquivalentTo(new[] { ("main", first), (first, second) }));
    }

    [Test]
    public async Task A_receipt_for_an_earlier_event_leaves_the_receipt_where_it_was()
    {
        var (alice, bob, roomId, first) = await RoomAsync();
        var second = await Server.SendMessageAsync(alice, roomId, "second");
        await ReceiptAsync(bob, roomId, "m.read", second);
        var before = Now;
        var (status, _) = await ReceiptAsync(bob, roomId, "m.read", first);
        Assert.That(status, Is.EqualTo(200));

        Assert.That(Receipts.ChangesSince(alice.UserId, [roomId], before, Now), Is.Empty);
        var content = ReceiptEvent(alice, roomId)?["content"]?.AsObject();
        Assert.That(content?.ContainsKey(second), Is.True);
        Assert.That(content?.ContainsKey(first), Is.False);
    }

    [Test]
    public async Task The_stream_holds_only_the_receipts_written_after_the_position()
    {
        var (alice, bob, roomId, first) = await RoomAsync();
        await ReceiptAsync(alice, roomId, "m.read", first);
        var middle = Now;
        var second = await Server.SendMessageAsync(alice, roomId, "second");
        await ReceiptAsync(bob, roomId, "m.read", second);
        var end = Now;

        var later = Receipts.ChangesSince(alice.UserId, [roomId], middle, end)[roomId].Single()["content"]!.AsObject();
        Assert.That(later.Select(p => p.Key), Is.EquivalentTo(new[] { second }));
        Assert.That(later[second]?["m.read"]?.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { bob.UserId }));
        Assert.That(Receipts.ChangesSince(alice.UserId, [roomId], end, end), Is.Empty);
        var earlier = Receipts.ChangesSince(alice.UserId, [roomId], 0, middle)[roomId].Single()["content"]!.AsObject();
        Assert.That(earlier.Select(p => p.Key), Is.EquivalentTo(new[] { first }));
    }

    [Test]
    public async Task A_waiting_reader_wakes_on_a_receipt_in_one_of_its_rooms()
    {
        var (alice, bob, roomId, eventId) = await RoomAsync();
        var (_, otherBob, otherRoom, otherEvent) = await RoomAsync();
        using var cancel = new CancellationTokenSource();
        var watch = Receipts.Watch([roomId], cancel.Token);

        var (otherStatus, _) = await ReceiptAsync(otherBob, otherRoom, "m.read", otherEvent);
        Assert.That(otherStatus, Is.EqualTo(200));
        Assert.That(watch.IsCompleted, Is.False);
        await ReceiptAsync(bob, roomId, "m.read", eventId);
        await watch.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(ReceiptEvent(alice, roomId), Is.Not.Null);
        await cancel.CancelAsync();
    }

    [Test]
    public async Task A_receipt_in_a_room_one_is_not_in_is_403_M_FORBIDDEN()
    {
        var (_, _, roomId, eventId) = await RoomAsync();
        var stranger = await Server.RegisterAsync(Accounts.UniqueName("stranger"));
        foreach (var type in new[] { "m.read", "m.read.private", "m.fully_read" })
        {
            var (status, body) = await ReceiptAsync(stranger, roomId, type, eventId);
            Assert.That(status, Is.EqualTo(403), type);
            Assert.That(body.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        }
        var (markerStatus, markerBody) = await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), new JsonObject { ["m.fully_read"] = eventId }, stranger.AccessToken);
        Assert.That(markerStatus, Is.EqualTo(403));
        Assert.That(markerBody.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task A_receipt_for_an_event_that_is_not_in_the_room_is_404_M_NOT_FOUND()
    {
        var (_, bob, roomId, _) = await RoomAsync();
        var (_, _, _, elsewhere) = await RoomAsync();
        foreach (var eventId in new[] { "$unknown:localhost", elsewhere })
        {
            var (status, body) = await ReceiptAsync(bob, roomId, "m.read", eventId);
            Assert.That(status, Is.EqualTo(404), eventId);
            Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        }
    }

    [TestCase("m.unknown", "{}")]
    [TestCase("m.read", """{"thread_id": ""}""")]
    [TestCase("m.read", """{"thread_id": 5}""")]
    [TestCase("m.read", """{"thread_id": null}""")]
    [TestCase("m.read", """{"thread_id": "thread-root"}""")]
    [TestCase("m.fully_read", """{"thread_id": "main"}""")]
    public async Task A_wrong_receipt_type_or_thread_id_is_400_M_INVALID_PARAM(string type, string raw)
    {
        var (_, bob, roomId, eventId) = await RoomAsync();
        var (status, response) = await Server.SendRawAsync(HttpMethod.Post, ReceiptPath(roomId, type, eventId), raw, bob.AccessToken);
        Assert.That(status, Is.EqualTo(400), response?.ToJsonString());
        Assert.That(response.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [Test]
    public async Task An_m_fully_read_receipt_moves_the_read_marker()
    {
        var (_, bob, roomId, eventId) = await RoomAsync();
        var (status, _) = await ReceiptAsync(bob, roomId, "m.fully_read", eventId);
        Assert.That(status, Is.EqualTo(200));

        Assert.That((string?)AccountData.Read(bob.UserId, roomId, "m.fully_read")?["event_id"], Is.EqualTo(eventId));
        Assert.That(ReceiptEvent(bob, roomId), Is.Null);
    }

    [Test]
    public async Task Read_markers_set_the_fully_read_marker_and_both_receipts()
    {
        var (alice, bob, roomId, eventId) = await RoomAsync();
        var body = new JsonObject { ["m.fully_read"] = eventId, ["m.read"] = eventId, ["m.read.private"] = eventId };
        var (status, response) = await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), body, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200), response?.ToJsonString());

        var (getStatus, marker) = await Server.SendAsync(HttpMethod.Get,
            $"/_matrix/client/v3/user/{Uri.EscapeDataString(bob.UserId)}/rooms/{Uri.EscapeDataString(roomId)}/account_data/m.fully_read",
            accessToken: bob.AccessToken);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(marker?.ToJsonString(), Is.EqualTo($$"""{"event_id":"{{eventId}}"}"""));
        Assert.That(ReceiptEvent(alice, roomId)?["content"]?[eventId]?["m.read"]?[bob.UserId], Is.Not.Null);
        Assert.That(ReceiptEvent(alice, roomId)?["content"]?[eventId]?["m.read.private"], Is.Null);
        Assert.That(ReceiptEvent(bob, roomId)?["content"]?[eventId]?["m.read.private"]?[bob.UserId], Is.Not.Null);
    }

    [Test]
    public async Task The_read_marker_only_moves_forward()
    {
        var (alice, bob, roomId, first) = await RoomAsync();
        var second = await Server.SendMessageAsync(alice, roomId, "second");
        await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), new JsonObject { ["m.fully_read"] = second }, bob.AccessToken);
        var (status, _) = await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), new JsonObject { ["m.fully_read"] = first }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)AccountData.Read(bob.UserId, roomId, "m.fully_read")?["event_id"], Is.EqualTo(second));
    }

    [Test]
    public async Task Read_markers_check_every_event_before_writing_any()
    {
        var (_, bob, roomId, eventId) = await RoomAsync();
        var body = new JsonObject { ["m.fully_read"] = eventId, ["m.read"] = "$missing:localhost" };
        var (status, response) = await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), body, bob.AccessToken);
        Assert.That(status, Is.EqualTo(404));
        Assert.That(response.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        Assert.That(AccountData.Read(bob.UserId, roomId, "m.fully_read"), Is.Null);
    }

    [Test]
    public async Task A_read_marker_that_is_not_a_string_is_400_M_BAD_JSON()
    {
        var (_, bob, roomId, _) = await RoomAsync();
        var (status, response) = await Server.SendAsync(HttpMethod.Post, MarkersPath(roomId), new JsonObject { ["m.fully_read"] = 5 }, bob.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(response.ErrCode(), Is.EqualTo("M_BAD_JSON"));
    }
}
