using Conduit.Net.Config;

namespace Conduit.Net.Tests.Cli;

/// <summary><c>version</c>, <c>config init</c> and <c>config check</c> through the real command line.</summary>
public sealed class ConfigVerbTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateDirectory() => _dir = CliRunner.TempDirectory();

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Version_prints_the_version()
    {
        var result = await CliRunner.RunAsync(["version"]);

        Assert.That(result.ExitCode, Is.Zero);
        Assert.That(result.Output, Does.StartWith("conduit-net 0.1.0"));
    }

    [Test]
    public async Task Config_init_writes_the_commented_example_and_config_check_accepts_it()
    {
        var path = Path.Combine(_dir, "conduit.toml");

        var init = await CliRunner.RunAsync(["config", "init", path]);
        var check = await CliRunner.RunAsync(["config", "check", "--config", path]);

        Assert.That(init.ExitCode, Is.Zero, init.Error);
        Assert.That(File.ReadAllText(path), Is.EqualTo(ExampleConfig.Text));
        Assert.That(check.ExitCode, Is.Zero, check.Error);
        Assert.That(check.Output, Does.StartWith($"Config OK: {path}"));
        Assert.That(check.Output, Does.Contain("global.server_name = \"localhost\""));
    }

    [Test]
    public async Task Config_init_refuses_to_overwrite_an_existing_file_unless_forced()
    {
        var path = Path.Combine(_dir, "conduit.toml");
        File.WriteAllText(path, "mine");

        var refused = await CliRunner.RunAsync(["config", "init", path]);
        var kept = File.ReadAllText(path);
        var forced = await CliRunner.RunAsync(["config", "init", path, "--force"]);

        Assert.That(refused.ExitCode, Is.Not.Zero);
        Assert.That(refused.ErrorLines, Is.EqualTo(new[] { $"error: {path} already exists; pass --force to overwrite it" }));
        Assert.That(kept, Is.EqualTo("mine"));
        Assert.That(forced.ExitCode, Is.Zero, forced.Error);
        Assert.That(File.ReadAllText(path), Is.EqualTo(ExampleConfig.Text));
    }

    [TestCase("[global]\nserver_name = \"example.org\"\nport = \"x\"\n", "global.port: expected an integer")]
    [TestCase("[global]\nserver_name = \"example.org\"\nbogus = 1\n", "unknown key global.bogus")]
    [TestCase("[global]\nport = 8008\n", "global.server_name is missing")]
    [TestCase("[global]\nserver_name = \"example.org\"\naddress = \"not-an-ip\"\n", "global.address: \"not-an-ip\" is not an IP address")]
    [TestCase("[global]\nserver_name = \"bad name\"\n", "global.server_name: \"bad name\" is not a valid server name")]
    [TestCase("[global]\nserver_name = \"example.org\"\naddress = \"0.0.0.0\"\n", "registration is open to anyone")]
    public async Task Config_check_prints_one_error_line_and_fails_on_a_bad_config(string toml, string expected)
    {
        var path = Path.Combine(_dir, "conduit.toml");
        File.WriteAllText(path, toml);

        var result = await CliRunner.RunAsync(["config", "check", "--config", path]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain(expected));
        Assert.That(result.Output, Is.Empty);
    }

    [Test]
    public async Task Config_check_fails_on_an_unreadable_path()
    {
        var result = await CliRunner.RunAsync(["config", "check", "--config", Path.Combine(_dir, "nope.toml")]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(result.ErrorLines[0], Does.StartWith("error: cannot read config file"));
    }

    [Test]
    public async Task Config_check_reads_CONDUIT_CONFIG_and_environment_overrides()
    {
        var path = Path.Combine(_dir, "conduit.toml");
        File.WriteAllText(path, "[global]\nserver_name = \"example.org\"\n");
        var environment = new Dictionary<string, string> { ["CONDUIT_CONFIG"] = path, ["CONDUIT_PORT"] = "7007" };

        var result = await CliRunner.RunAsync(["config", "check"], environment);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Does.StartWith($"Config OK: {path}"));
        Assert.That(result.Output, Does.Contain("global.server_name = \"example.org\""));
        Assert.That(result.Output, Does.Contain("global.port = 7007"));
    }

    [Test]
    public async Task Config_check_hides_secrets()
    {
        var environment = new Dictionary<string, string> { ["CONDUIT_REGISTRATION_TOKEN"] = "hunter2" };

        var result = await CliRunner.RunAsync(["config", "check"], environment);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Does.Contain("global.registration_token = (set, hidden)"));
        Assert.That(result.Output, Does.Not.Contain("hunter2"));
    }

    [Test]
    public async Task An_unknown_verb_fails()
    {
        var result = await CliRunner.RunAsync(["frobnicate"]);

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Error, Does.Contain("frobnicate"));
    }
}
