using System.Text.Json.Nodes;
using Conduit.Net.Cli;
using Conduit.Net.Tests.Api;
using Conduit.Net.Tests.Rooms;
using Conduit.Net.Tests.Sync;

namespace Conduit.Net.Tests.Cli;

/// <summary>
/// The offline <c>user</c> and <c>token</c> verbs on a stopped server's data directory; the results
/// are checked by starting the real server on that directory and logging in.
/// </summary>
public sealed class UserVerbTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDirectory() => _dir = CliRunner.TempDirectory();

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private Dictionary<string, string> Environment => new() { ["CONDUIT_DATABASE_PATH"] = _dir };

    private Task<CliResult> RunAsync(string[] args, string standardInput = "") =>
        CliRunner.RunAsync(args, Environment, standardInput);

    private Task<TestServer> StartServerAsync() => TestServer.StartAsync(c => c with { DatabasePath = _dir });

    [Test]
    public async Task User_create_with_a_password_from_stdin_makes_an_account_that_can_log_in()
    {
        var created = await RunAsync(["user", "create", "alice", "--password-stdin"], "correct horse\n");

        Assert.That(created.ExitCode, Is.Zero, created.Error);
        Assert.That(created.Output, Is.EqualTo("Created @alice:localhost (admin)" + System.Environment.NewLine), "the first account is an admin");
        await using var server = await StartServerAsync();
        var (status, body) = await server.LoginRawAsync("alice", "correct horse");
        Assert.That(status, Is.EqualTo(200));
        Assert.That((string?)body!["user_id"], Is.EqualTo("@alice:localhost"));
    }

    [Test]
    public async Task User_create_without_stdin_prints_a_generated_password_that_works()
    {
        await RunAsync(["user", "create", "first", "--password-stdin"], "pw\n");

        var created = await RunAsync(["user", "create", "bob"]);

        Assert.That(created.ExitCode, Is.Zero, created.Error);
        var lines = created.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines[0], Is.EqualTo("Created @bob:localhost"), "only the first account is an admin by default");
        Assert.That(lines[1], Does.StartWith("Password: "));
        await using var server = await StartServerAsync();
        var (status, _) = await server.LoginRawAsync("bob", lines[1]["Password: ".Length..]);
        Assert.That(status, Is.EqualTo(200));
    }

    [Test]
    public async Task User_list_shows_admins_and_deactivated_accounts()
    {
        await RunAsync(["user", "create", "alice", "--password-stdin"], "pw\n");
        await RunAsync(["user", "create", "bob", "--admin", "--password-stdin"], "pw\n");
        await RunAsync(["user", "create", "carol", "--password-stdin"], "pw\n");
        var deactivated = await RunAsync(["user", "deactivate", "@carol:localhost"]);

        var list = await RunAsync(["user", "list"]);

        Assert.That(deactivated.ExitCode, Is.Zero, deactivated.Error);
        Assert.That(list.ExitCode, Is.Zero, list.Error);
        Assert.That(
            string.Join(" | ", list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            Is.EqualTo("@alice:localhost (admin) | @bob:localhost (admin) | @carol:localhost (deactivated)"));
        await using var server = await StartServerAsync();
        var (status, body) = await server.LoginRawAsync("carol", "pw");
        Assert.That(status, Is.Not.EqualTo(200));
        Assert.That(body.ErrCode(), Is.EqualTo("M_USER_DEACTIVATED"));
    }

    [Test]
    public async Task User_reset_password_replaces_the_password()
    {
        await RunAsync(["user", "create", "dave", "--password-stdin"], "old password\n");

        var reset = await RunAsync(["user", "reset-password", "dave", "--password-stdin"], "new password\r\n");

        Assert.That(reset.ExitCode, Is.Zero, reset.Error);
        Assert.That(reset.Output, Does.StartWith("Reset the password of @dave:localhost"));
        await using var server = await StartServerAsync();
        var (oldStatus, _) = await server.LoginRawAsync("dave", "old password");
        var (newStatus, _) = await server.LoginRawAsync("dave", "new password");
        Assert.That(oldStatus, Is.EqualTo(403));
        Assert.That(newStatus, Is.EqualTo(200));
    }

    [Test]
    public async Task User_reset_password_logs_out_every_device_and_their_to_device_inboxes_go_with_them()
    {
        await RunAsync(["user", "create", "frank", "--password-stdin"], "old password\n");
        await using (var before = await StartServerAsync())
        {
            var frank = await before.LoginAsync("frank", "old password", new JsonObject { ["device_id"] = "PHONE" });
            var sender = await before.RegisterAsync(Accounts.UniqueName("sender"));
            var message = new JsonObject { ["messages"] = new JsonObject { [frank.UserId] = new JsonObject { ["PHONE"] = new JsonObject { ["n"] = 1 } } } };
            var (status, body) = await before.SendAsync(HttpMethod.Put, $"{RoomApi.Client}/sendToDevice/org.example.ping/1", message, sender.AccessToken);
            Assert.That(status, Is.EqualTo(200), body?.ToJsonString());
        }

        var list = await RunAsync(["user", "list"]);
        Assert.That(list.Output, Does.Contain("frank"), list.Output + list.Error);
        var reset = await RunAsync(["user", "reset-password", "frank", "--password-stdin"], "new password\n");

        Assert.That(reset.ExitCode, Is.Zero, reset.Error);
        await using var after = await StartServerAsync();
        var again = await after.LoginAsync("frank", "new password", new JsonObject { ["device_id"] = "PHONE" });
        Assert.That(again.DeviceId, Is.EqualTo("PHONE"));
        Assert.That((await after.SyncAsync(again))["to_device"]!["events"]!.AsArray(), Is.Empty,
            "a new login on the id of a device the CLI logged out starts with an empty inbox");
    }

    [Test]
    public async Task A_taken_name_an_unknown_user_and_an_empty_stdin_password_are_one_error_line_each()
    {
        await RunAsync(["user", "create", "erin", "--password-stdin"], "pw\n");

        var taken = await RunAsync(["user", "create", "erin", "--password-stdin"], "pw\n");
        var unknown = await RunAsync(["user", "reset-password", "nobody", "--password-stdin"], "pw\n");
        var unknownDeactivate = await RunAsync(["user", "deactivate", "nobody"]);
        var empty = await RunAsync(["user", "create", "frank", "--password-stdin"], "");

        Assert.Multiple(() =>
        {
            foreach (var result in new[] { taken, unknown, unknownDeactivate, empty })
            {
                Assert.That(result.ExitCode, Is.Not.Zero);
                Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
                Assert.That(result.ErrorLines[0], Does.StartWith("error: "));
            }
            Assert.That(unknown.ErrorLines[0], Does.Contain("nobody"));
            Assert.That(empty.ErrorLines[0], Does.Contain("--password-stdin"));
        });
    }

    [Test]
    public async Task Token_create_list_and_revoke_gate_registration()
    {
        var created = await RunAsync(["token", "create", "--uses", "2", "--expires", "7d"]);
        var token = created.Output.Trim();
        var listed = await RunAsync(["token", "list"]);
        var revoked = await RunAsync(["token", "revoke", token]);
        var listedAfter = await RunAsync(["token", "list"]);
        var unknown = await RunAsync(["token", "revoke", "no-such-token"]);

        Assert.That(created.ExitCode, Is.Zero, created.Error);
        Assert.That(token, Does.Match("^[A-Za-z0-9._~-]{16}$"));
        Assert.That(listed.Output, Does.StartWith($"{token}  0/2 uses  expires ").And.Contain("  valid"));
        Assert.That(revoked.ExitCode, Is.Zero, revoked.Error);
        Assert.That(listedAfter.Output, Does.Contain("  revoked"));
        Assert.That(unknown.ExitCode, Is.Not.Zero);
        Assert.That(string.Join(" | ", unknown.ErrorLines), Is.EqualTo("error: no registration token 'no-such-token'"));
    }

    [Test]
    public async Task A_created_token_lets_exactly_its_uses_register()
    {
        var created = await RunAsync(["token", "create", "--token", "let-me-in", "--uses", "1"]);

        Assert.That(created.Output.Trim(), Is.EqualTo("let-me-in"));
        await using var server = await StartServerAsync();
        var tokens = (await server.SendAsync(HttpMethod.Get, "/_matrix/client/v1/register/m.login.registration_token/validity?token=let-me-in")).Body;
        Assert.That((bool?)tokens?["valid"], Is.True);
    }

    [Test]
    public async Task A_bad_expiry_is_one_error_line()
    {
        var result = await RunAsync(["token", "create", "--expires", "soon"]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(string.Join(" | ", result.ErrorLines), Is.EqualTo("error: --expires: 'soon' is neither a duration (30m, 12h, 7d) nor an ISO 8601 time"));
    }

    [TestCase("30m", 30 * 60)]
    [TestCase("12h", 12 * 3600)]
    [TestCase("7d", 7 * 86400)]
    public void Expiry_durations_count_from_now(string text, int seconds)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.That(TokenCommand.TryParseExpiry(text, now, out var expiry), Is.True);
        Assert.That(expiry - now, Is.EqualTo(TimeSpan.FromSeconds(seconds)));
    }

    [Test]
    public void Expiry_may_be_an_absolute_time()
    {
        Assert.That(TokenCommand.TryParseExpiry("2026-12-31T23:00:00Z", DateTimeOffset.UnixEpoch, out var expiry), Is.True);
        Assert.That(expiry, Is.EqualTo(new DateTimeOffset(2026, 12, 31, 23, 0, 0, TimeSpan.Zero)));
    }
}
