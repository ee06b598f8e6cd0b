using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;

namespace Conduit.Net.Tests.Directories;

/// <summary>
/// <c>/publicRooms</c> pagination over 25 published rooms of 1 to 4 members, each test on a server
/// of its own: the order (most members first, then room id), <c>next_batch</c>/<c>prev_batch</c>,
/// and tokens that keep their place when rooms change between pages or the server restarts.
/// </summary>
public sealed class PublicRoomsPaginationTests
{
    private const int RoomCount = 25;

    private TestServer _server = null!;
    private TestSession _alice = null!;
    private List<string> _rooms = null!;

    [SetUp]
    public async Task Seed()
    {
        _server = await TestServer.StartAsync();
        _alice = await _server.RegisterAsync(Accounts.UniqueName("owner"));
        var others = new List<TestSession>();
        for (var i = 0; i < 3; i++)
            others.Add(await _server.RegisterAsync(Accounts.UniqueName("joiner")));
        _rooms = [];
        for (var i = 0; i < RoomCount; i++)
        {
            var roomId = await _server.CreatePublicRoomAsync(_alice, new JsonObject { ["name"] = i % 2 == 0 ? $"even room {i}" : $"odd room {i}" });
            for (var j = 0; j < i % 4; j++)
                await _server.JoinAsync(others[j], roomId);
            _rooms.Add(roomId);
        }
    }

    [TearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private async Task<JsonNode> GetPageAsync(int limit, string? since = null)
    {
        var query = $"?limit={limit}" + (since is null ? "" : $"&since={Uri.EscapeDataString(since)}");
        var (status, body) = await _server.SendAsync(HttpMethod.Get, DirectoryApi.PublicRoomsPath + query);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        return body!;
    }

    /// <summary>Follows <c>next_batch</c> from the first page to the last; returns every page's entries.</summary>
    private async Task<List<JsonArray>> AllPagesAsync(int limit, Func<int, Task>? betweenPages = null)
    {
        var pages = new List<JsonArray>();
        string? since = null;
        do
        {
            var page = await GetPageAsync(limit, since);
            pages.Add(page["chunk"]!.AsArray());
            since = (string?)page["next_batch"];
            if (since is not null && betweenPages is not null)
                await betweenPages(pages.Count);
        }
        while (since is not null && pages.Count < 10);
        return pages;
    }

    private static void AssertOrdered(IEnumerable<JsonNode?> entries)
    {
        var keys = entries.Select(e => ((int)e!["num_joined_members"]!, (string)e["room_id"]!)).ToList();
        var sorted = keys.OrderByDescending(k => k.Item1).ThenBy(k => k.Item2, StringComparer.Ordinal).ToList();
        Assert.That(keys, Is.EqualTo(sorted), "most members first, then room id");
    }

    [Test]
    public async Task Paging_25_rooms_by_10_serves_each_room_once_most_members_first()
    {
        var first = await GetPageAsync(10);
        Assert.That(first["prev_batch"], Is.Null, "the first page has nothing before it");
        Assert.That((int?)first["total_room_count_estimate"], Is.EqualTo(RoomCount));

        var pages = await AllPagesAsync(10);

        Assert.That(pages.Select(p => p.Count), Is.EqualTo((int[])[10, 10, 5]));
        var all = pages.SelectMany(p => p).ToList();
        Assert.That(all.Select(e => (string)e!["room_id"]!), Is.EquivalentTo(_rooms), "each room exactly once");
        AssertOrdered(all);
        Assert.That((int?)all[0]!["num_joined_members"], Is.EqualTo(4));
        Assert.That((int?)all[^1]!["num_joined_members"], Is.EqualTo(1));
        Assert.That((await AllPagesAsync(10)).SelectMany(p => p).Select(e => (string)e!["room_id"]!),
            Is.EqualTo(all.Select(e => (string)e!["room_id"]!)), "the order is stable");
    }

    [Test]
    public async Task Prev_batch_walks_back_to_the_same_pages()
    {
        var page1 = await GetPageAsync(10);
        var page2 = await GetPageAsync(10, (string)page1["next_batch"]!);
        var page3 = await GetPageAsync(10, (string)page2["next_batch"]!);
        Assert.That(page3["next_batch"], Is.Null, "the last page has nothing after it");

        var back2 = await GetPageAsync(10, (string)page3["prev_batch"]!);
        Assert.That(back2["chunk"]!.RoomIds(), Is.EqualTo(page2["chunk"]!.RoomIds()));
        var back1 = await GetPageAsync(10, (string)back2["prev_batch"]!);
        Assert.That(back1["chunk"]!.RoomIds(), Is.EqualTo(page1["chunk"]!.RoomIds()));
        Assert.That(back1["prev_batch"], Is.Null);
        Assert.That((await GetPageAsync(10, (string)back1["next_batch"]!))["chunk"]!.RoomIds(), Is.EqualTo(page2["chunk"]!.RoomIds()));
    }

    [Test]
    public async Task Rooms_changing_between_pages_are_still_served_exactly_once()
    {
        var fresh = (await GetPageAsync(RoomCount))["chunk"]!.AsArray();
        var lastRoom = (string)fresh[^1]!["room_id"]!;
        var middleRoom = (string)fresh[15]!["room_id"]!;

        var pages = await AllPagesAsync(10, async pagesSoFar =>
        {
            if (pagesSoFar != 1)
                return;
            // The last room grows to the largest; a room of the second page leaves the directory.
            for (var i = 0; i < 5; i++)
                await _server.JoinAsync(await _server.RegisterAsync(Accounts.UniqueName("crowd")), lastRoom);
            var (status, _) = await _server.SetVisibilityRawAsync(_alice, middleRoom, new JsonObject { ["visibility"] = "private" });
            Assert.That(status, Is.EqualTo(200));
        });

        var served = pages.SelectMany(p => p).ToList();
        var servedIds = served.Select(e => (string)e!["room_id"]!).ToList();
        Assert.That(servedIds, Is.EquivalentTo(_rooms.Where(r => r != middleRoom)), "every room still published, once");
        Assert.That((int?)served.Single(e => (string)e!["room_id"]! == lastRoom)!["num_joined_members"], Is.EqualTo(6), "entries show the current count");

        var relisted = (await GetPageAsync(10))["chunk"]!.AsArray();
        Assert.That((string?)relisted[0]!["room_id"], Is.EqualTo(lastRoom), "a new listing orders by the new counts");
        Assert.That((int?)(await GetPageAsync(1))["total_room_count_estimate"], Is.EqualTo(RoomCount - 1));
    }

    [Test]
    public async Task Tokens_keep_their_place_after_a_restart()
    {
        var page1 = await GetPageAsync(10);

        await _server.RestartAsync();

        var page2 = await GetPageAsync(10, (string)page1["next_batch"]!);
        var page3 = await GetPageAsync(10, (string)page2["next_batch"]!);
        Assert.That(page3["next_batch"], Is.Null);
        var all = new[] { page1, page2, page3 }.SelectMany(p => p["chunk"]!.AsArray()).ToList();
        Assert.That(all.Select(e => (string)e!["room_id"]!), Is.EquivalentTo(_rooms), "each room exactly once");
        AssertOrdered(all);
        Assert.That((await GetPageAsync(10, (string)page3["prev_batch"]!))["chunk"]!.RoomIds(), Is.EqualTo(page2["chunk"]!.RoomIds()));
    }

    [Test]
    public async Task A_filtered_listing_pages_through_the_matching_rooms_only()
    {
        var filter = new JsonObject { ["generic_search_term"] = "odd" };
        var pages = new List<JsonArray>();
        string? since = null;
        do
        {
            var body = new JsonObject { ["limit"] = 5, ["filter"] = filter.DeepClone() };
            if (since is not null)
                body["since"] = since;
            var page = await _server.QueryPublicRoomsAsync(_alice, body);
            Assert.That((int?)page["total_room_count_estimate"], Is.EqualTo(12));
            pages.Add(page["chunk"]!.AsArray());
            since = (string?)page["next_batch"];
        }
        while (since is not null && pages.Count < 10);

        Assert.That(pages.Select(p => p.Count), Is.EqualTo((int[])[5, 5, 2]));
        var all = pages.SelectMany(p => p).ToList();
        Assert.That(all.Select(e => (string)e!["room_id"]!), Is.EquivalentTo(_rooms.Where((_, i) => i % 2 == 1)));
        AssertOrdered(all);
    }
}
