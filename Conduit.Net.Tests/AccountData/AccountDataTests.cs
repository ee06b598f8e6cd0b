using System.Text.Json.Nodes;
using Conduit.Net.Services.AccountData;
using Conduit.Net.Storage;
using Conduit.Net.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.AccountData;

/// <summary>
/// Account data over HTTP (<c>/user/{userId}/account_data/{type}</c> and the per-room form), and
/// the stream that sync reads: changes since a position, and the wake-up of a waiting reader.
/// </summary>
public sealed class AccountDataTests : ServerFixture
{
    private const string RoomId = "!someroom:localhost";

    private AccountDataService Service => Server.Host.Services.GetRequiredService<AccountDataService>();

    private KvStore Store => Server.Host.Services.GetRequiredService<KvStore>();

    private static string GlobalPath(string userId, string type) =>
        $"/_matrix/client/v3/user/{Uri.EscapeDataString(userId)}/account_data/{Uri.EscapeDataString(type)}";

    private static string RoomPath(string userId, string roomId, string type) =>
        $"/_matrix/client/v3/user/{Uri.EscapeDataString(userId)}/rooms/{Uri.EscapeDataString(roomId)}/account_data/{Uri.EscapeDataString(type)}";

    private Task<TestSession> NewUserAsync() => Server.RegisterAsync(Accounts.UniqueName("data"));

    private Task<(int Status, JsonNode? Body)> PutAsync(TestSession session, string path, JsonNode content) =>
        Server.SendAsync(HttpMethod.Put, path, content, session.AccessToken);

    private Task<(int Status, JsonNode? Body)> GetAsync(TestSession session, string path) =>
        Server.SendAsync(HttpMethod.Get, path, accessToken: session.AccessToken);

    [Test]
    public async Task Global_account_data_reads_back_and_a_later_put_replaces_it()
    {
        var session = await NewUserAsync();
        var path = GlobalPath(session.UserId, "org.example.config");
        var (status, body) = await PutAsync(session, path, new JsonObject { ["theme"] = "dark", ["n"] = 1 });
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body?.ToJsonString(), Is.EqualTo("{}"));

        await PutAsync(session, path, new JsonObject { ["theme"] = "light" });
        var (getStatus, content) = await GetAsync(session, path);
        Assert.That(getStatus, Is.EqualTo(200));
        Assert.That(content?.ToJsonString(), Is.EqualTo("""{"theme":"light"}"""));
    }

    [Test]
    public async Task Room_account_data_is_separate_from_global_account_data_of_the_same_type()
    {
        var session = await NewUserAsync();
        await PutAsync(session, RoomPath(session.UserId, RoomId, "org.example.x"), new JsonObject { ["where"] = "room" });

        var (globalStatus, globalBody) = await GetAsync(session, GlobalPath(session.UserId, "org.example.x"));
        Assert.That(globalStatus, Is.EqualTo(404));
        Assert.That(globalBody.ErrCode(), Is.EqualTo("M_NOT_FOUND"));

        var (otherRoomStatus, _) = await GetAsync(session, RoomPath(session.UserId, "!other:localhost", "org.example.x"));
        Assert.That(otherRoomStatus, Is.EqualTo(404));

        var (status, content) = await GetAsync(session, RoomPath(session.UserId, RoomId, "org.example.x"));
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)content?["where"], Is.EqualTo("room"));
    }

    [Test]
    public async Task Account_data_never_set_is_404_M_NOT_FOUND()
    {
        var session = await NewUserAsync();
        var (status, body) = await GetAsync(session, GlobalPath(session.UserId, "m.direct"));
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
        (status, body) = await GetAsync(session, RoomPath(session.UserId, RoomId, "m.fully_read"));
        Assert.That(status, Is.EqualTo(404));
        Assert.That(body.ErrCode(), Is.EqualTo("M_NOT_FOUND"));
    }

    [Test]
    public async Task Another_users_account_data_is_403_M_FORBIDDEN_to_read_and_to_write()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await PutAsync(bob, GlobalPath(bob.UserId, "org.example.secret"), new JsonObject { ["pin"] = 1234 });

        foreach (var path in new[] { GlobalPath(bob.UserId, "org.example.secret"), RoomPath(bob.UserId, RoomId, "org.example.secret") })
        {
            var (getStatus, getBody) = await GetAsync(alice, path);
            Assert.That(getStatus, Is.EqualTo(403), path);
            Assert.That(getBody.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
            var (putStatus, putBody) = await PutAsync(alice, path, new JsonObject { ["pin"] = 0 });
            Assert.That(putStatus, Is.EqualTo(403), path);
            Assert.That(putBody.ErrCode(), Is.EqualTo("M_FORBIDDEN"));
        }
        var (_, content) = await GetAsync(bob, GlobalPath(bob.UserId, "org.example.secret"));
        Assert.That((int?)content?["pin"], Is.EqualTo(1234));
    }

    [TestCase("m.fully_read")]
    [TestCase("m.push_rules")]
    public async Task Server_managed_types_are_405_M_BAD_JSON_globally_and_per_room(string type)
    {
        var session = await NewUserAsync();
        foreach (var path in new[] { GlobalPath(session.UserId, type), RoomPath(session.UserId, RoomId, type) })
        {
            var (status, body) = await PutAsync(session, path, new JsonObject { ["event_id"] = "$x" });
            Assert.That(status, Is.EqualTo(405), path);
            Assert.That(body.ErrCode(), Is.EqualTo("M_BAD_JSON"));
            var (getStatus, _) = await GetAsync(session, path);
            Assert.That(getStatus, Is.EqualTo(404), path);
        }
    }

    [TestCase("@notaroomid:example.org")]
    [TestCase("room")]
    [TestCase("!nocolon")]
    public async Task A_room_id_that_is_not_one_is_400_M_INVALID_PARAM(string roomId)
    {
        var session = await NewUserAsync();
        var (putStatus, putBody) = await PutAsync(session, RoomPath(session.UserId, roomId, "org.example.x"), new JsonObject());
        Assert.That(putStatus, Is.EqualTo(400));
        Assert.That(putBody.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
        var (getStatus, getBody) = await GetAsync(session, RoomPath(session.UserId, roomId, "org.example.x"));
        Assert.That(getStatus, Is.EqualTo(400));
        Assert.That(getBody.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
    }

    [TestCase("[1, 2]", "M_BAD_JSON")]
    [TestCase("\"text\"", "M_BAD_JSON")]
    [TestCase("{\"a\": ", "M_NOT_JSON")]
    public async Task Content_that_is_not_a_json_object_is_400(string raw, string errcode)
    {
        var session = await NewUserAsync();
        var (status, body) = await Server.SendRawAsync(HttpMethod.Put, GlobalPath(session.UserId, "org.example.x"), raw, session.AccessToken);
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo(errcode));
    }

    [Test]
    public async Task A_type_longer_than_255_bytes_is_400_M_INVALID_PARAM()
    {
        var session = await NewUserAsync();
        var (status, body) = await PutAsync(session, GlobalPath(session.UserId, new string('t', 256)), new JsonObject());
        Assert.That(status, Is.EqualTo(400));
        Assert.That(body.ErrCode(), Is.EqualTo("M_INVALID_PARAM"));
        (status, _) = await PutAsync(session, GlobalPath(session.UserId, new string('t', 255)), new JsonObject());
        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task The_stream_reports_each_change_after_the_position_once_with_its_latest_content()
    {
        var session = await NewUserAsync();
        var start = Store.CommittedCount;
        await PutAsync(session, GlobalPath(session.UserId, "org.example.a"), new JsonObject { ["v"] = 1 });
        await PutAsync(session, RoomPath(session.UserId, RoomId, "org.example.b"), new JsonObject { ["v"] = 1 });
        var middle = Store.CommittedCount;
        await PutAsync(session, GlobalPath(session.UserId, "org.example.a"), new JsonObject { ["v"] = 2 });
        await PutAsync(session, GlobalPath(session.UserId, "org.example.c"), new JsonObject { ["v"] = 1 });
        var end = Store.CommittedCount;

        var all = Service.ChangesSince(session.UserId, 0, end);
        Assert.That(all.Select(e => (e.RoomId, e.Type, (int)e.Content["v"]!)), Is.EqualTo(new (string?, string, int)[]
        {
            (RoomId, "org.example.b", 1),
            (null, "org.example.a", 2),
            (null, "org.example.c", 1),
        }));
        Assert.That(all.Select(e => e.Position), Is.Ordered.Ascending);
        Assert.That(all.All(e => e.Position > start && e.Position <= end), Is.True);

        var later = Service.ChangesSince(session.UserId, middle, end);
        Assert.That(string.Join(",", later.Select(e => e.Type)), Is.EqualTo("org.example.a,org.example.c"));
        Assert.That(Service.ChangesSince(session.UserId, end, end), Is.Empty);
        Assert.That(string.Join(",", Service.ChangesSince(session.UserId, start, middle).Select(e => e.Type)), Is.EqualTo("org.example.b"));
        Assert.That(later[0].ToEvent().ToJsonString(), Is.EqualTo("""{"type":"org.example.a","content":{"v":2}}"""));
    }

    [Test]
    public async Task The_stream_of_one_user_holds_nothing_of_another()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        await PutAsync(bob, GlobalPath(bob.UserId, "org.example.bobs"), new JsonObject());
        Assert.That(Service.ChangesSince(alice.UserId, 0, Store.CommittedCount), Is.Empty);
        Assert.That(Service.ChangesSince(bob.UserId, 0, Store.CommittedCount), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_waiting_reader_wakes_on_its_users_write_and_not_on_another_users()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        using var cancel = new CancellationTokenSource();
        var watch = Service.Watch(alice.UserId, cancel.Token);

        await PutAsync(bob, GlobalPath(bob.UserId, "org.example.x"), new JsonObject());
        Assert.That(watch.IsCompleted, Is.False);

        await PutAsync(alice, RoomPath(alice.UserId, RoomId, "org.example.x"), new JsonObject());
        await watch.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(watch.IsCompletedSuccessfully, Is.True);
    }
}
