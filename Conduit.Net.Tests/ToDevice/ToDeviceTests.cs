using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.ToDevice;

/// <summary>Send-to-device messaging: <c>PUT /sendToDevice</c> and <c>to_device</c> in <c>/sync</c>.</summary>
public sealed class ToDeviceTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private Task<(int Status, JsonNode? Body)> SendRawAsync(TestSession from, string type, string txnId, JsonNode body) =>
        _server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/sendToDevice/{RoomApi.Escape(type)}/{RoomApi.Escape(txnId)}", body, from.AccessToken);

    private async Task SendAsync(TestSession from, string txnId, JsonObject messages, string type = "org.example.ping")
    {
        var (status, body) = await SendRawAsync(from, type, txnId, new JsonObject { ["messages"] = messages });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That(body!.AsObject(), Is.Empty);
    }

    private static JsonObject To(string userId, string deviceId, JsonObject content) =>
        new() { [userId] = new JsonObject { [deviceId] = content } };

    private static JsonObject Content(int n) => new() { ["n"] = n };

    /// <summary>The expected numbers, listed in place.</summary>
    private static int[] Expect(params int[] numbers) => numbers;

    private static JsonArray ToDeviceEvents(JsonNode sync) => sync["to_device"]!["events"]!.AsArray();

    private static List<int> Numbers(JsonNode sync) => [.. ToDeviceEvents(sync).Select(e => (int)e!["content"]!["n"]!)];

    private async Task<(TestSession First, TestSession Second)> TwoDevicesAsync(string prefix)
    {
        var first = await _server.RegisterAsync(Accounts.UniqueName(prefix));
        var second = await _server.LoginAsync(first.UserId);
        return (first, second);
    }

    [Test]
    public async Task A_message_to_one_device_reaches_that_device_only_with_type_sender_and_content()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (bob1, bob2) = await TwoDevicesAsync("bob");

        await SendAsync(alice, RoomApi.NewTxnId(), To(bob1.UserId, bob1.DeviceId, Content(1)), "m.room_key_request");

        var events = ToDeviceEvents(await _server.SyncAsync(bob1));
        Assert.That(events, Has.Count.EqualTo(1));
        Assert.That((string?)events[0]!["type"], Is.EqualTo("m.room_key_request"));
        Assert.That((string?)events[0]!["sender"], Is.EqualTo(alice.UserId));
        Assert.That((int?)events[0]!["content"]!["n"], Is.EqualTo(1));
        Assert.That(ToDeviceEvents(await _server.SyncAsync(bob2)), Is.Empty);
        Assert.That(ToDeviceEvents(await _server.SyncAsync(alice)), Is.Empty);
    }

    [Test]
    public async Task Messages_to_several_devices_and_users_reach_each_of_them()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (bob1, bob2) = await TwoDevicesAsync("bob");
        var carol = await _server.RegisterAsync(Accounts.UniqueName("carol"));

        await SendAsync(alice, RoomApi.NewTxnId(), new JsonObject
        {
            [bob1.UserId] = new JsonObject { [bob1.DeviceId] = Content(1), [bob2.DeviceId] = Content(2) },
            [carol.UserId] = new JsonObject { [carol.DeviceId] = Content(3) },
        });

        Assert.That(Numbers(await _server.SyncAsync(bob1)), Is.EqualTo(Expect(1)));
        Assert.That(Numbers(await _server.SyncAsync(bob2)), Is.EqualTo(Expect(2)));
        Assert.That(Numbers(await _server.SyncAsync(carol)), Is.EqualTo(Expect(3)));
    }

    [Test]
    public async Task A_star_reaches_every_device_of_the_user()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (bob1, bob2) = await TwoDevicesAsync("bob");

        await SendAsync(alice, RoomApi.NewTxnId(), To(bob1.UserId, "*", Content(7)));

        Assert.That(Numbers(await _server.SyncAsync(bob1)), Is.EqualTo(Expect(7)));
        Assert.That(Numbers(await _server.SyncAsync(bob2)), Is.EqualTo(Expect(7)));
    }

    [Test]
    public async Task The_same_txn_id_twice_arrives_once_and_another_device_may_reuse_it()
    {
        var (alice1, alice2) = await TwoDevicesAsync("alice");
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));

        await SendAsync(alice1, "same", To(bob.UserId, bob.DeviceId, Content(1)));
        await SendAsync(alice1, "same", To(bob.UserId, bob.DeviceId, Content(2)));
        await SendAsync(alice2, "same", To(bob.UserId, bob.DeviceId, Content(3)));

        Assert.That(Numbers(await _server.SyncAsync(bob)), Is.EqualTo(Expect(1, 3)));
    }

    [Test]
    public async Task A_message_comes_again_until_a_sync_acknowledges_it()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var before = (await _server.SyncAsync(bob)).NextBatch();

        await SendAsync(alice, RoomApi.NewTxnId(), To(bob.UserId, bob.DeviceId, Content(1)));
        var first = await _server.SyncAsync(bob, since: before);
        Assert.That(Numbers(first), Is.EqualTo(Expect(1)));

        // The client lost that response and syncs with its old token: the message comes again.
        var again = await _server.SyncAsync(bob, since: before);
        Assert.That(Numbers(again), Is.EqualTo(Expect(1)));

        var acknowledged = await _server.SyncAsync(bob, since: again.NextBatch());
        Assert.That(ToDeviceEvents(acknowledged), Is.Empty);
        Assert.That(ToDeviceEvents(await _server.SyncAsync(bob)), Is.Empty, "an initial sync finds the inbox empty too");
    }

    [Test]
    public async Task A_sync_delivers_at_most_100_in_order_and_the_next_one_the_rest_at_once()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        for (var n = 1; n <= 105; n++)
            await SendAsync(alice, RoomApi.NewTxnId(), To(bob.UserId, bob.DeviceId, Content(n)));

        var first = await _server.SyncAsync(bob);
        Assert.That(Numbers(first), Is.EqualTo(Enumerable.Range(1, 100)));

        // The token acknowledges only what the first response delivered, and a long-poll with it
        // does not wait: the five held back are news.
        var rest = await _server.SyncAsync(bob, since: first.NextBatch(), timeoutMs: 30_000);
        Assert.That(Numbers(rest), Is.EqualTo(Enumerable.Range(101, 5)));
        Assert.That(ToDeviceEvents(await _server.SyncAsync(bob, since: rest.NextBatch())), Is.Empty);
    }

    [Test]
    public async Task A_long_poll_wakes_for_a_message_to_its_device()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));
        var since = (await _server.SyncAsync(bob)).NextBatch();

        var poll = _server.SyncAsync(bob, since: since, timeoutMs: 30_000);
        await Task.Delay(200);
        await SendAsync(alice, RoomApi.NewTxnId(), To(bob.UserId, bob.DeviceId, Content(9)));

        Assert.That(Numbers(await poll), Is.EqualTo(Expect(9)));
    }

    [Test]
    public async Task Unknown_users_devices_and_users_of_other_servers_are_skipped()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var bob = await _server.RegisterAsync(Accounts.UniqueName("bob"));

        await SendAsync(alice, RoomApi.NewTxnId(), new JsonObject
        {
            [bob.UserId] = new JsonObject { ["NOSUCHDEVICE"] = Content(1), [bob.DeviceId] = Content(2) },
            ["@nobody:localhost"] = new JsonObject { ["*"] = Content(3) },
            ["@someone:elsewhere.example"] = new JsonObject { ["DEVICE"] = Content(4) },
        });

        Assert.That(Numbers(await _server.SyncAsync(bob)), Is.EqualTo(Expect(2)));
    }

    [Test]
    public async Task A_body_without_messages_or_with_a_bad_user_id_is_400_M_BAD_JSON()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));

        var (status, body) = await SendRawAsync(alice, "org.example.ping", RoomApi.NewTxnId(), new JsonObject());
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        (status, body) = await SendRawAsync(alice, "org.example.ping", RoomApi.NewTxnId(), new JsonObject { ["messages"] = To("bob", "D", Content(1)) });
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
        (status, body) = await SendRawAsync(alice, "org.example.ping", RoomApi.NewTxnId(), new JsonObject { ["messages"] = new JsonObject { [alice.UserId] = new JsonObject { ["D"] = 1 } } });
        Assert.That((status, body.ErrCode()), Is.EqualTo((400, "M_BAD_JSON")));
    }

    [Test]
    public async Task A_logged_out_device_loses_its_inbox_and_a_new_login_on_its_id_starts_empty()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var (bob1, bob2) = await TwoDevicesAsync("bob");
        await SendAsync(alice, RoomApi.NewTxnId(), To(bob2.UserId, "*", Content(1)));

        var (status, body) = await _server.SendAsync(HttpMethod.Post, $"{RoomApi.Client}/logout", new JsonObject(), bob2.AccessToken);
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        var again = await _server.LoginAsync(bob2.UserId, extra: new JsonObject { ["device_id"] = bob2.DeviceId });

        Assert.That(again.DeviceId, Is.EqualTo(bob2.DeviceId));
        Assert.That(ToDeviceEvents(await _server.SyncAsync(again)), Is.Empty);
        Assert.That(Numbers(await _server.SyncAsync(bob1)), Is.EqualTo(Expect(1)), "the other device keeps its message");
    }

    [Test]
    public async Task Sending_needs_an_access_token()
    {
        var (status, body) = await _server.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/sendToDevice/m.test/1", new JsonObject { ["messages"] = new JsonObject() });
        Assert.That((status, body.ErrCode()), Is.EqualTo((401, "M_MISSING_TOKEN")));
    }
}
