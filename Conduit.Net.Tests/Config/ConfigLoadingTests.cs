using Conduit.Net.Config;
using Microsoft.Extensions.Logging;

namespace Conduit.Net.Tests.Config;

/// <summary>The TOML file and CONDUIT_* variables as the loader turns them into a ServerConfig.</summary>
public sealed class ConfigLoadingTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private string _dir = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    private string Write(string toml)
    {
        var path = Path.Combine(_dir, "conduit.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    [Test]
    public void Without_a_config_file_the_embedded_developer_defaults_apply()
    {
        var config = ConfigLoader.Load(null, NoEnvironment);

        Assert.Multiple(() =>
        {
            Assert.That(config.ServerName, Is.EqualTo("localhost"));
            Assert.That(config.Address, Is.EqualTo("127.0.0.1"));
            Assert.That(config.Port, Is.EqualTo(6167));
            Assert.That(config.DatabasePath, Is.EqualTo("./conduit-data"));
            Assert.That(config.AllowRegistration, Is.True);
            Assert.That(config.RegistrationToken, Is.Null);
            Assert.That(config.Durability, Is.EqualTo(Durability.Safe));
        });
    }

    [Test]
    public void A_toml_file_sets_strings_integers_flags_lists_choices_and_nested_tables()
    {
        var path = Write("""
            [global]
            server_name = "example.org"
            database_path = "/var/lib/conduit-net"
            address = "0.0.0.0"
            port = 8008
            max_request_size = 1000
            allow_registration = true
            registration_token = "s3cret"
            allow_federation = false
            trusted_servers = ["a.example", "b.example:8448"]
            default_room_version = "10"
            log = "warn"
            rate_limiting = false
            durability = "fast"

            [global.rate_limits.login]
            per_minute = 5
            burst = 2

            [global.well_known]
            client = "https://matrix.example.org"
            server = "matrix.example.org:443"
            """);

        var config = ConfigLoader.Load(path, NoEnvironment);

        Assert.Multiple(() =>
        {
            Assert.That(config.ServerName, Is.EqualTo("example.org"));
            Assert.That(config.DatabasePath, Is.EqualTo("/var/lib/conduit-net"));
            Assert.That(config.Address, Is.EqualTo("0.0.0.0"));
            Assert.That(config.Port, Is.EqualTo(8008));
            Assert.That(config.MaxRequestSize, Is.EqualTo(1000));
            Assert.That(config.RegistrationToken, Is.EqualTo("s3cret"));
            Assert.That(config.AllowFederation, Is.False);
            Assert.That(string.Join(" ", config.TrustedServers), Is.EqualTo("a.example b.example:8448"));
            Assert.That(config.DefaultRoomVersion, Is.EqualTo("10"));
            Assert.That(config.Log, Is.EqualTo(LogLevel.Warning));
            Assert.That(config.RateLimiting, Is.False);
            Assert.That(config.Durability, Is.EqualTo(Durability.Fast));
            Assert.That(config.RateLimits.Login, Is.EqualTo(new RateLimit { PerMinute = 5, Burst = 2 }));
            Assert.That(config.RateLimits.Register, Is.EqualTo(new ServerConfig().RateLimits.Register), "an absent table keeps its defaults");
            Assert.That(config.WellKnown.Client, Is.EqualTo("https://matrix.example.org"));
            Assert.That(config.WellKnown.Server, Is.EqualTo("matrix.example.org:443"));
        });
    }

    [Test]
    public void Environment_variables_override_the_file_including_nested_keys()
    {
        var path = Write("""
            [global]
            server_name = "example.org"
            port = 8008
            """);
        var environment = new Dictionary<string, string>
        {
            ["CONDUIT_PORT"] = "9009",
            ["CONDUIT_RATE_LIMITING"] = "false",
            ["CONDUIT_WELL_KNOWN__CLIENT"] = "https://m.example.org",
            ["CONDUIT_RATE_LIMITS__REGISTER__BURST"] = "1",
            ["CONDUIT_TRUSTED_SERVERS"] = "one.example, two.example",
            ["CONDUIT_DURABILITY"] = "fast",
            ["CONDUIT_CONFIG"] = "ignored-here.toml",
            ["UNRELATED"] = "anything",
        };

        var config = ConfigLoader.Load(path, environment);

        Assert.Multiple(() =>
        {
            Assert.That(config.ServerName, Is.EqualTo("example.org"));
            Assert.That(config.Port, Is.EqualTo(9009));
            Assert.That(config.RateLimiting, Is.False);
            Assert.That(config.WellKnown.Client, Is.EqualTo("https://m.example.org"));
            Assert.That(config.RateLimits.Register.Burst, Is.EqualTo(1));
            Assert.That(string.Join(" ", config.TrustedServers), Is.EqualTo("one.example two.example"));
            Assert.That(config.Durability, Is.EqualTo(Durability.Fast));
        });
    }

    [Test]
    public void An_empty_environment_value_unsets_an_optional_key()
    {
        var path = Write("""
            [global]
            server_name = "example.org"
            registration_token = "from-file"
            """);

        var config = ConfigLoader.Load(path, new Dictionary<string, string> { ["CONDUIT_REGISTRATION_TOKEN"] = "" });

        Assert.That(config.RegistrationToken, Is.Null);
    }

    [Test]
    public void Server_name_from_the_environment_satisfies_a_file_without_one()
    {
        var path = Write("[global]\nport = 8008\n");

        var config = ConfigLoader.Load(path, new Dictionary<string, string> { ["CONDUIT_SERVER_NAME"] = "example.org" });

        Assert.That(config.ServerName, Is.EqualTo("example.org"));
    }

    [Test]
    public void The_config_path_comes_from_the_option_then_CONDUIT_CONFIG_then_nowhere()
    {
        var environment = new Dictionary<string, string> { ["CONDUIT_CONFIG"] = "/from/env.toml" };

        Assert.Multiple(() =>
        {
            Assert.That(ConfigLoader.ResolvePath("/from/option.toml", environment), Is.EqualTo("/from/option.toml"));
            Assert.That(ConfigLoader.ResolvePath(null, environment), Is.EqualTo("/from/env.toml"));
            Assert.That(ConfigLoader.ResolvePath(null, NoEnvironment), Is.Null);
        });
    }

    // Each bad file gives one line naming the file, the line where it can, the key and what is valid.
    [TestCase("[global]\nserver_name = \"example.org\"\nport = \"8008\"\n", "conduit.toml:3: global.port: expected an integer from 0 to 65535, got the string \"8008\"")]
    [TestCase("[global]\nserver_name = \"example.org\"\nport = 70000\n", "conduit.toml:3: global.port: expected an integer from 0 to 65535, got the integer 70000")]
    [TestCase("[global]\nserver_name = \"example.org\"\nallow_registration = \"yes\"\n", "conduit.toml:3: global.allow_registration: expected true or false")]
    [TestCase("[global]\nserver_name = \"example.org\"\ntrusted_servers = \"matrix.org\"\n", "global.trusted_servers: expected an array of strings")]
    [TestCase("[global]\nserver_name = \"example.org\"\nlog = \"verbose\"\n", "global.log: expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"off\"")]
    [TestCase("[global]\nserver_name = \"example.org\"\ndurability = \"yolo\"\n", "global.durability: expected one of \"safe\", \"fast\"")]
    [TestCase("[global]\nserver_name = \"example.org\"\nservername = \"x\"\n", "conduit.toml:3: unknown key global.servername")]
    [TestCase("[global]\nserver_name = \"example.org\"\n[global.well_known]\nclients = \"x\"\n", "conduit.toml:4: unknown key global.well_known.clients")]
    [TestCase("[global]\nserver_name = \"example.org\"\nwell_known = \"x\"\n", "global.well_known: expected a table")]
    [TestCase("[server]\nname = \"x\"\n", "unknown table or key 'server'")]
    [TestCase("[global]\nport = 8008\n", "global.server_name is missing")]
    [TestCase("[global]\nserver_name = \"example.org\"\nport = = 1\n", "conduit.toml:3: ")]
    [TestCase("[global]\nserver_name = \"example.org\"\nport = 1\nport = 2\n", "conduit.toml:4: ")]
    [TestCase("[global]\nserver_name = \"exa mple.org\"\n", "global.server_name: \"exa mple.org\" is not a valid server name")]
    [TestCase("[global]\nserver_name = \"example.org:99999\"\n", "global.server_name: \"example.org:99999\" is not a valid server name")]
    [TestCase("[global]\nserver_name = \"example.org\"\naddress = \"localhost\"\n", "global.address: \"localhost\" is not an IP address")]
    [TestCase("[global]\nserver_name = \"example.org\"\naddress = \"1.2.3\"\n", "global.address: \"1.2.3\" is not an IP address")]
    [TestCase("[global]\nserver_name = \"example.org\"\n[global.well_known]\nclient = \"matrix.example.org\"\n", "global.well_known.client: \"matrix.example.org\" is not an absolute http(s) URL")]
    [TestCase("[global]\nserver_name = \"example.org\"\ndefault_room_version = \"13\"\n", "global.default_room_version: expected one of")]
    public void A_bad_config_file_is_one_clear_error(string toml, string expected)
    {
        var path = Write(toml);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnvironment))!;

        Assert.That(error.Message, Does.Contain(expected.Replace("conduit.toml", path, StringComparison.Ordinal)));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    [TestCase("CONDUIT_PORT", "eighty", "CONDUIT_PORT: expected an integer from 0 to 65535, got 'eighty'")]
    [TestCase("CONDUIT_RATE_LIMITING", "yes", "CONDUIT_RATE_LIMITING: expected true or false, got 'yes'")]
    [TestCase("CONDUIT_SERVERNAME", "example.org", "CONDUIT_SERVERNAME: no config key has this environment variable")]
    [TestCase("CONDUIT_ADDRESS", "::g", "global.address: \"::g\" is not an IP address")]
    public void A_bad_environment_variable_is_one_clear_error(string name, string value, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, new Dictionary<string, string> { [name] = value }))!;

        Assert.That(error.Message, Does.Contain(expected));
    }

    [Test]
    public void An_unreadable_config_path_is_one_clear_error()
    {
        var missing = Path.Combine(_dir, "missing.toml");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(missing, NoEnvironment))!;

        Assert.That(error.Message, Does.StartWith($"cannot read config file {missing}"));
    }

    [TestCase("0.0.0.0")]
    [TestCase("::")]
    [TestCase("192.0.2.10")]
    public void Open_registration_without_a_token_on_a_public_address_refuses_to_start(string address)
    {
        var path = Write($"[global]\nserver_name = \"example.org\"\naddress = \"{address}\"\n");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnvironment))!;

        Assert.That(error.Message, Does.StartWith("global.allow_registration: registration is open to anyone"));
        Assert.That(error.Message, Does.Contain(ConfigKeys.OpenRegistrationOptIn));
    }

    [TestCase("address = \"127.0.0.1\"")]
    [TestCase("address = \"::1\"")]
    [TestCase("address = \"0.0.0.0\"\nregistration_token = \"t\"")]
    [TestCase("address = \"0.0.0.0\"\nallow_registration = false")]
    [TestCase("address = \"0.0.0.0\"\nyes_i_am_very_very_sure_i_want_an_open_registration_server_prone_to_abuse = true")]
    public void Registration_may_be_open_on_loopback_with_a_token_closed_or_explicitly_acknowledged(string settings)
    {
        var path = Write($"[global]\nserver_name = \"example.org\"\n{settings}\n");

        Assert.DoesNotThrow(() => ConfigLoader.Load(path, NoEnvironment));
    }

    [TestCase("example.org")]
    [TestCase("matrix.example.org:8448")]
    [TestCase("127.0.0.1:6167")]
    [TestCase("[::1]:8448")]
    public void Any_server_name_of_the_spec_grammar_is_accepted(string name)
    {
        var path = Write($"[global]\nserver_name = \"{name}\"\n");

        Assert.That(ConfigLoader.Load(path, NoEnvironment).ServerName, Is.EqualTo(name));
    }

    [Test]
    public void Federation_settings_come_from_the_file_and_the_environment()
    {
        var path = Write("""
            [global]
            server_name = "example.org"
            federation_custom_ca_list = ["/ca/one.pem"]
            federation_domain_whitelist = ["friend.example"]

            [global.tls]
            certs = "/tls/fullchain.pem"
            key = "/tls/key.pem"
            """);
        var environment = new Dictionary<string, string>
        {
            ["CONDUIT_FEDERATION_LISTENER"] = "true",
            ["CONDUIT_FEDERATION_PORT"] = "8449",
            ["CONDUIT_FEDERATION_VERIFY_CERTIFICATES"] = "false",
            ["CONDUIT_FEDERATION_IP_RANGE_BLACKLIST"] = "",
            ["CONDUIT_TLS__KEY"] = "/tls/other-key.pem",
        };

        var config = ConfigLoader.Load(path, environment);

        Assert.Multiple(() =>
        {
            Assert.That(config.Tls.Certs, Is.EqualTo("/tls/fullchain.pem"));
            Assert.That(config.Tls.Key, Is.EqualTo("/tls/other-key.pem"));
            Assert.That(config.FederationListener, Is.True);
            Assert.That(config.FederationPort, Is.EqualTo(8449));
            Assert.That(config.FederationVerifyCertificates, Is.False);
            Assert.That(config.FederationIpRangeBlacklist, Is.Empty, "an empty list allows every address");
            Assert.That(config.FederationCustomCaList, Is.EqualTo((string[])["/ca/one.pem"]));
            Assert.That(config.FederationDomainWhitelist, Is.EqualTo((string[])["friend.example"]));
        });
    }

    private static readonly string[] BlockedByDefault = ["127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10"];

    [Test]
    public void By_default_federation_verifies_certificates_and_blocks_private_and_loopback_ranges()
    {
        var config = ConfigLoader.Load(null, NoEnvironment);

        Assert.That(config.FederationVerifyCertificates, Is.True);
        Assert.That(config.FederationListener, Is.False);
        Assert.That(config.FederationIpRangeBlacklist, Is.SupersetOf(BlockedByDefault));
    }

    [TestCase("[global.tls]\ncerts = \"/c.pem\"", "global.tls.key: tls.certs and tls.key are set together")]
    [TestCase("federation_ip_range_blacklist = [\"10.0.0.0/33\"]", "global.federation_ip_range_blacklist: \"10.0.0.0/33\" is not a CIDR range")]
    [TestCase("federation_domain_whitelist = [\"bad name\"]", "global.federation_domain_whitelist: \"bad name\" is not a valid server name")]
    public void A_bad_federation_setting_is_one_clear_error(string settings, string expected)
    {
        var path = Write($"[global]\nserver_name = \"example.org\"\n{settings}\n");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnvironment))!;
        Assert.That(error.Message, Does.Contain(expected));
    }
}
