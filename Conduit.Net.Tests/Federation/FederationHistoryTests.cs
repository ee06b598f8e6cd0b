using System.Text.Json.Nodes;
using Conduit.Net.Core.Events;
using Conduit.Net.Core.RoomVersions;
using Conduit.Net.Services.Federation;
using Conduit.Net.Services.Rooms;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// History between three real servers: <c>/backfill</c> and <c>/get_missing_events</c> served by A to
/// B (whose user joined A's room) and refused to C (no member); what A shows another server of events
/// its users may not see (redacted); B fetching an event it missed from a transaction's origin; and C's
/// user, joining later, paging back with <c>/messages</c> through history C fetches from A or B, as far
/// as the room's history visibility lets them.
/// </summary>
public sealed class FederationHistoryTests() : FederatedFixture(3)
{
    private const string Federation = "/_matrix/federation/v1";

    private static JsonObject HistoryVisibility(string visibility) => new()
    {
        ["type"] = "m.room.history_visibility",
        ["state_key"] = "",
        ["content"] = new JsonObject { ["history_visibility"] = visibility },
    };

    /// <summary>A public room of a new user of A with <paramref name="visibility"/>, joined by a new user of B.</summary>
    /// <remarks>Before B's user joins, the room gets a topic and Alice a display name (a member event that auth chains name).</remarks>
    private async Task<(TestSession Alice, TestSession Bob, string RoomId)> RoomOfAWithBAsync(string visibility = "shared", int messagesBeforeB = 0)
    {
        var alice = await NewUserAsync(A, "alice");
        var roomId = await PublicRoomAsync(A, alice, new JsonObject { ["initial_state"] = new JsonArray(HistoryVisibility(visibility)), ["topic"] = "set before B" });
        await A.PutStateAsync(alice, roomId, "m.room.member", alice.UserId, new JsonObject { ["membership"] = "join", ["displayname"] = "Alice before B" });
        for (var i = 1; i <= messagesBeforeB; i++)
            await A.SendTextAsync(alice, roomId, $"before B {i}");
        var bob = await NewUserAsync(B, "bob");
        await JoinViaAsync(B, bob, roomId, A);
        return (alice, bob, roomId);
    }

    private static Task<JsonObject> BackfillAsync(TestServer asking, TestServer from, string roomId, string eventId, int limit) =>
        asking.FederationClient().GetAsync(from.Name(), $"{Federation}/backfill/{RoomApi.Escape(roomId)}?v={RoomApi.Escape(eventId)}&limit={limit}", CancellationToken.None);

    private static Task<JsonObject> MissingEventsAsync(TestServer asking, TestServer from, string roomId, JsonObject body) =>
        asking.FederationClient().PostAsync(from.Name(), $"{Federation}/get_missing_events/{RoomApi.Escape(roomId)}", body, CancellationToken.None);

    /// <summary>The id of a PDU of a room version 12 room (whose PDUs do not carry it).</summary>
    private static string IdOf(JsonNode? pdu) => Pdu.Parse(pdu!.AsObject().DeepClone().AsObject(), RoomVersion.Get("12")).EventId.Value;

    private static List<string> Ids(JsonNode? pdus) => [.. pdus!.AsArray().Select(IdOf)];

    private static string? Body(JsonNode? pdus, string eventId) => (string?)pdus!.AsArray().Single(p => IdOf(p) == eventId)!["content"]?["body"];

    /// <summary>Five messages of <paramref name="alice"/> on A, m1 to m5; their ids in that order.</summary>
    private async Task<List<string>> FiveMessagesAsync(TestSession alice, string roomId)
    {
        var sent = new List<string>();
        for (var i = 1; i <= 5; i++)
            sent.Add(await A.SendTextAsync(alice, roomId, $"m{i}"));
        return sent;
    }

    [Test]
    public async Task Backfill_answers_the_given_events_and_those_before_them_newest_first_up_to_the_limit_as_a_transaction()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync();
        var sent = await FiveMessagesAsync(alice, roomId);

        var answer = await BackfillAsync(B, A, roomId, sent[4], 3);

        Assert.That((string?)answer["origin"], Is.EqualTo(A.Name()));
        Assert.That((long?)answer["origin_server_ts"], Is.GreaterThan(0));
        Assert.That(Ids(answer["pdus"]), Is.EqualTo(new[] { sent[4], sent[3], sent[2] }));
        Assert.That(answer["pdus"]![0]!.AsObject().ContainsKey("unsigned"), Is.False);
    }

    [Test]
    public async Task Backfill_reaches_the_rooms_create_event_and_stops_there()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync();
        var last = await A.SendTextAsync(alice, roomId, "last");

        var pdus = (await BackfillAsync(B, A, roomId, last, 100))["pdus"]!.AsArray();

        Assert.That((string?)pdus[^1]!["type"], Is.EqualTo("m.room.create"));
        Assert.That(Ids(pdus), Is.Unique);
    }

    [Test]
    public async Task Backfill_and_get_missing_events_are_403_for_a_server_without_a_member_in_the_room()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync();
        var last = await A.SendTextAsync(alice, roomId, "last");

        var backfill = Assert.ThrowsAsync<FederationException>(() => BackfillAsync(C, A, roomId, last, 10));
        var missing = Assert.ThrowsAsync<FederationException>(() => MissingEventsAsync(C, A, roomId, new JsonObject { ["earliest_events"] = new JsonArray(), ["latest_events"] = new JsonArray(last) }));

        Assert.That(backfill!.Status, Is.EqualTo(403));
        Assert.That(missing!.Status, Is.EqualTo(403));
        Assert.That((string?)missing.Body?["errcode"], Is.EqualTo("M_FORBIDDEN"));
    }

    [Test]
    public async Task A_world_readable_room_is_backfilled_whole_to_a_server_without_a_member()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync("world_readable");
        var last = await A.SendTextAsync(alice, roomId, "for anyone");

        var answer = await BackfillAsync(C, A, roomId, last, 1);

        Assert.That(Body(answer["pdus"], last), Is.EqualTo("for anyone"));
    }

    [Test]
    public async Task Backfill_without_v_or_limit_is_400_M_MISSING_PARAM()
    {
        var (_, _, roomId) = await RoomOfAWithBAsync();

        var noV = Assert.ThrowsAsync<FederationException>(() => B.FederationClient().GetAsync(A.Name(), $"{Federation}/backfill/{RoomApi.Escape(roomId)}?limit=5", CancellationToken.None));
        var noLimit = Assert.ThrowsAsync<FederationException>(() => B.FederationClient().GetAsync(A.Name(), $"{Federation}/backfill/{RoomApi.Escape(roomId)}?v=%24x", CancellationToken.None));

        Assert.That((noV!.Status, (string?)noV.Body?["errcode"]), Is.EqualTo((400, "M_MISSING_PARAM")));
        Assert.That((noLimit!.Status, (string?)noLimit.Body?["errcode"]), Is.EqualTo((400, "M_MISSING_PARAM")));
    }

    [Test]
    public async Task Get_missing_events_walks_back_from_the_latest_events_without_them_or_the_earliest_ones_oldest_first()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync();
        var sent = await FiveMessagesAsync(alice, roomId);

        var between = await MissingEventsAsync(B, A, roomId, new JsonObject { ["earliest_events"] = new JsonArray(sent[0]), ["latest_events"] = new JsonArray(sent[4]) });
        var limited = await MissingEventsAsync(B, A, roomId, new JsonObject { ["earliest_events"] = new JsonArray(sent[0]), ["latest_events"] = new JsonArray(sent[4]), ["limit"] = 2 });
        var deep = (long)(await BackfillAsync(B, A, roomId, sent[2], 1))["pdus"]![0]!["depth"]!;
        var shallowCut = await MissingEventsAsync(B, A, roomId, new JsonObject { ["earliest_events"] = new JsonArray(), ["latest_events"] = new JsonArray(sent[4]), ["min_depth"] = deep });

        Assert.That(Ids(between["events"]), Is.EqualTo(new[] { sent[1], sent[2], sent[3] }));
        Assert.That(Ids(limited["events"]), Is.EqualTo(new[] { sent[2], sent[3] }));
        Assert.That(Ids(shallowCut["events"]), Is.EqualTo(new[] { sent[2], sent[3] }));
    }

    [Test]
    public async Task A_transaction_whose_event_follows_one_the_receiver_missed_makes_it_fetch_the_gap_from_the_origin()
    {
        var (_, bob, roomId) = await RoomOfAWithBAsync();
        using var remote = new RemoteServer("missed.test");
        remote.PublishTo(A);
        remote.PublishTo(B);
        var eve = remote.User(Accounts.UniqueName("eve"));

        // Events A received from another server are not A's to pass on: B never gets these three from A's queue.
        var join = await remote.JoinAsync(A, roomId, eve);
        var first = await remote.SendAcceptedAsync(A, roomId, "m.room.message", null, eve, new JsonObject { ["msgtype"] = "m.text", ["body"] = "missed" });
        var second = remote.Event(A, roomId, "m.room.message", null, eve, new JsonObject { ["msgtype"] = "m.text", ["body"] = "delivered" });
        await remote.SendAsync(A, second, PduOutcome.Accepted);

        var answer = await A.FederationClient().PutAsync(B.Name(), $"{Federation}/send/gap-{Guid.NewGuid():N}", new JsonObject
        {
            ["origin"] = A.Name(),
            ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["pdus"] = new JsonArray(second.Json.DeepClone()),
        }, CancellationToken.None);

        Assert.That(answer["pdus"]![second.Id]!.AsObject(), Has.Count.EqualTo(0), answer.ToJsonString());
        Assert.That(await MessagesAsync(B, bob, roomId), Is.EqualTo((string[])["missed", "delivered"]));
        var events = B.Host.Services.GetRequiredService<RoomEvents>();
        Assert.That(new[] { join, first }.Select(id => events.Ids.FindEvent(id)), Has.All.Not.Null);
    }

    [TestCase("shared", true)]
    [TestCase("joined", false)]
    public async Task Events_a_server_may_not_see_are_served_redacted_by_backfill_event_get_missing_events_state_and_event_auth(string visibility, bool visible)
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync(visibility, messagesBeforeB: 1);
        var before = (await BackfillAsync(B, A, roomId, await A.SendTextAsync(alice, roomId, "after B"), 100))["pdus"]!.AsArray()
            .Single(p => (string?)p!["type"] == "m.room.message" && (string?)p["sender"] == alice.UserId && (string?)p["content"]?["body"] != "after B");
        var beforeId = IdOf(before);
        var last = await A.SendTextAsync(alice, roomId, "last");

        var byEvent = await B.FederationClient().GetAsync(A.Name(), $"{Federation}/event/{RoomApi.Escape(beforeId)}", CancellationToken.None);
        var missing = await MissingEventsAsync(B, A, roomId, new JsonObject { ["earliest_events"] = new JsonArray(), ["latest_events"] = new JsonArray(last), ["limit"] = 100 });
        var state = await B.FederationClient().GetAsync(A.Name(), $"{Federation}/state/{RoomApi.Escape(roomId)}?event_id={RoomApi.Escape(last)}", CancellationToken.None);
        var authChain = await B.FederationClient().GetAsync(A.Name(), $"{Federation}/event_auth/{RoomApi.Escape(roomId)}/{RoomApi.Escape(last)}", CancellationToken.None);

        var expected = visible ? "before B 1" : null;
        Assert.That((string?)before!["content"]?["body"], Is.EqualTo(expected));
        Assert.That(Body(byEvent["pdus"], beforeId), Is.EqualTo(expected));
        Assert.That(Body(missing["events"], beforeId), Is.EqualTo(expected));
        var topic = (string?)state["pdus"]!.AsArray().Single(p => (string?)p!["type"] == "m.room.topic")!["content"]?["topic"];
        Assert.That(topic, Is.EqualTo(visible ? "set before B" : null), "state before B's join");
        var aliceNamed = (string)(await A.GetStateAsync(alice, roomId, "m.room.member", alice.UserId))["displayname"]!;
        var aliceMember = authChain["auth_chain"]!.AsArray()
            .Where(p => (string?)p!["type"] == "m.room.member" && (string?)p["state_key"] == alice.UserId)
            .Select(p => p!["content"]!.AsObject())
            .ToList();
        Assert.That(aliceNamed, Is.EqualTo("Alice before B"));
        Assert.That(aliceMember.Select(c => (string?)c["membership"]), Has.All.EqualTo("join"), "redaction keeps what the auth rules read");
        Assert.That(aliceMember.Any(c => (string?)c["displayname"] == aliceNamed), Is.EqualTo(visible), "and drops the rest");
        Assert.That(missing["events"]!.AsArray().Count(p => (string?)p!["content"]?["body"] == "after B"), Is.EqualTo(1), "events after B's join stay whole");
    }

    [TestCase("shared")]
    [TestCase("invited")]
    [TestCase("joined")]
    public async Task A_user_of_a_server_that_joins_later_pages_back_through_fetched_history_as_far_as_visibility_allows(string visibility)
    {
        var (alice, bob, roomId) = await RoomOfAWithBAsync(visibility, messagesBeforeB: 2);
        await B.SendTextAsync(bob, roomId, "from B");
        await A.SendTextAsync(alice, roomId, "from A");
        await Poll.UntilAsync(async () => (await MessagesAsync(A, alice, roomId)).Contains("from B"));
        var carol = await NewUserAsync(C, "carol");
        await A.SendTextAsync(alice, roomId, "before the invite");
        await A.InviteAsync(alice, roomId, carol.UserId);
        await A.SendTextAsync(alice, roomId, "before the join");
        await JoinViaAsync(C, carol, roomId, A);
        await A.SendTextAsync(alice, roomId, "after the join");
        await Poll.UntilAsync(async () => (await MessagesAsync(C, carol, roomId)).Contains("after the join"));
        var sync = await C.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync?timeout=0", accessToken: carol.AccessToken);
        var since = (string)sync.Body!["next_batch"]!;
        var events = C.Host.Services.GetRequiredService<RoomEvents>();
        var extremities = events.Find(roomId)!.Extremities;

        var pages = await PageBackAsync(C, carol, roomId);

        string[] expected = visibility switch
        {
            "shared" => ["before B 1", "before B 2", "from B", "from A", "before the invite", "before the join", "after the join"],
            "invited" => ["before the join", "after the join"],
            _ => ["after the join"],
        };
        Assert.That(pages, Is.EqualTo(expected));
        Assert.That(events.Find(roomId)!.Extremities, Is.EqualTo(extremities), "history does not move the forward extremities");
        var after = await C.SendAsync(HttpMethod.Get, $"{RoomApi.Client}/sync?timeout=0&since={since}", accessToken: carol.AccessToken);
        Assert.That(after.Body!["rooms"]?["join"]?[roomId]?["timeline"]?["events"]?.AsArray() ?? [], Is.Empty, "history is not news for sync");
    }

    [Test]
    public async Task History_longer_than_one_backfill_is_fetched_in_rounds_with_the_state_at_each_gap_asked_for()
    {
        var (alice, _, roomId) = await RoomOfAWithBAsync();
        var expected = Enumerable.Range(1, FederationHistory.BackfillBatch + 20).Select(i => $"old {i}").ToList();
        foreach (var text in expected)
            await A.SendTextAsync(alice, roomId, text);
        var carol = await NewUserAsync(C, "carol");
        await JoinViaAsync(C, carol, roomId, A);

        var pages = await PageBackAsync(C, carol, roomId, limit: 30);

        Assert.That(pages, Is.EqualTo(expected));
    }

    [Test]
    public async Task Paging_again_at_the_start_of_what_the_other_servers_give_is_answered_without_asking_them_again()
    {
        // D answers every /backfill with nothing (ahead of its own endpoint), as a server does whose
        // history C already holds or may not be given: C's copy then never reaches the create event.
        var backfills = 0;
        await using var d = await FederatedServer.StartAsync(mapExtraRoutes: routes => routes
            .MapGet($"{Federation}/backfill/{{roomId}}", async http =>
            {
                Interlocked.Increment(ref backfills);
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(new JsonObject
                {
                    ["origin"] = http.Request.Host.Value,
                    ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    ["pdus"] = new JsonArray(),
                }.ToJsonString());
            })
            .WithOrder(-1));
        var dana = await NewUserAsync(d, "dana");
        var roomId = await PublicRoomAsync(d, dana);
        await d.SendTextAsync(dana, roomId, "before carol");
        var carol = await NewUserAsync(C, "carol");
        await JoinViaAsync(C, carol, roomId, d);
        await C.SendTextAsync(carol, roomId, "from carol");

        var first = await PageBackAsync(C, carol, roomId);
        var asked = backfills;
        var second = await PageBackAsync(C, carol, roomId);

        Assert.That(asked, Is.EqualTo(1), "the first page-back at the start asks D");
        Assert.That(first, Is.EqualTo((string[])["from carol"]));
        Assert.That(second, Is.EqualTo(first), "the second is as complete");
        Assert.That(backfills, Is.EqualTo(1), "and answered without asking D again");
    }

    /// <summary>The message bodies <paramref name="who"/> reads paging <c>/messages</c> back from the end, oldest first.</summary>
    private static async Task<List<string>> PageBackAsync(TestServer server, TestSession who, string roomId, int limit = 5)
    {
        var bodies = new List<string>();
        string? from = null;
        for (var page = 0; page < 50; page++)
        {
            var (status, body) = await server.SendAsync(HttpMethod.Get, $"{RoomApi.RoomPath(roomId)}/messages?dir=b&limit={limit}" + (from is null ? "" : $"&from={from}"), accessToken: who.AccessToken);
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
            bodies.AddRange(body!["chunk"]!.AsArray().Where(e => (string?)e?["type"] == "m.room.message").Select(e => (string?)e!["content"]?["body"]).OfType<string>());
            from = (string?)body["end"];
            if (from is null)
                break;
        }
        bodies.Reverse();
        return bodies;
    }
}
