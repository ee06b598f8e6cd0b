using System.Text.Json.Nodes;
using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests.Rooms;

/// <summary><c>allow_encryption</c>: when false, clients cannot turn on end-to-end encryption in a room.</summary>
public sealed class AllowEncryptionTests
{
    private const string Encryption = "m.room.encryption";

    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task Start() => _server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private static JsonObject Megolm() => new() { ["algorithm"] = "m.megolm.v1.aes-sha2" };

    private static JsonObject InitialEncryption() => new()
    {
        ["initial_state"] = new JsonArray(new JsonObject { ["type"] = Encryption, ["state_key"] = "", ["content"] = Megolm() }),
    };

    [Test]
    public async Task By_default_a_room_can_be_encrypted_at_creation_and_later()
    {
        var alice = await _server.RegisterAsync(Accounts.UniqueName("alice"));
        var encrypted = await _server.CreateRoomAsync(alice, InitialEncryption());
        Assert.That((string?)(await _server.GetStateAsync(alice, encrypted, Encryption))["algorithm"], Is.EqualTo("m.megolm.v1.aes-sha2"));

        var roomId = await _server.CreateRoomAsync(alice);
        var (status, body) = await _server.PutStateRawAsync(alice, roomId, Encryption, "", Megolm());
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
    }

    [Test]
    public async Task When_encryption_is_not_allowed_every_way_to_turn_it_on_is_403_M_FORBIDDEN()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.RegisterAsync(Accounts.UniqueName("alice"));
        var encrypted = await server.CreateRoomAsync(alice, InitialEncryption());
        var plain = await server.CreateRoomAsync(alice);
        await server.RestartAsync(c => c with { AllowEncryption = false });

        var (status, body) = await server.CreateRoomRawAsync(alice, InitialEncryption());
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        Assert.That((string?)body!["error"], Does.Contain("allow_encryption"));
        (status, body) = await server.PutStateRawAsync(alice, plain, Encryption, "", Megolm());
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));
        (status, body) = await server.PostRawAsync(alice, $"{RoomApi.RoomPath(encrypted)}/upgrade", new JsonObject { ["new_version"] = "11" });
        Assert.That((status, body.ErrCode()), Is.EqualTo((403, "M_FORBIDDEN")));

        // What is not encryption still works, and a room encrypted before stays so.
        (status, body) = await server.PutStateRawAsync(alice, plain, "m.room.topic", "", new JsonObject { ["topic"] = "t" });
        Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        Assert.That((await server.GetStateRawAsync(alice, plain, Encryption)).Status, Is.EqualTo(404));
        Assert.That((string?)(await server.GetStateAsync(alice, encrypted, Encryption))["algorithm"], Is.EqualTo("m.megolm.v1.aes-sha2"));
        Assert.That((await server.PostRawAsync(alice, $"{RoomApi.RoomPath(plain)}/upgrade", new JsonObject { ["new_version"] = "11" })).Status, Is.EqualTo(200));
    }
}
