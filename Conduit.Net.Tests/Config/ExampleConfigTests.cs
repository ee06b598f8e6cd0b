using System.Text.RegularExpressions;
using Conduit.Net.Config;

namespace Conduit.Net.Tests.Config;

/// <summary><c>config.toml.example</c> (as embedded in the binary) stays in step with the key table.</summary>
public sealed partial class ExampleConfigTests
{
    [Test]
    public void Every_key_in_the_table_is_documented_in_its_section_of_the_example()
    {
        var sections = Sections(ExampleConfig.Text);

        foreach (var key in ConfigKeys.All)
        {
            var dot = key.TomlName.LastIndexOf('.');
            var table = key.TomlName[..dot];
            var name = key.TomlName[(dot + 1)..];
            Assert.That(sections.TryGetValue(table, out var lines), Is.True, $"[{table}] is missing from the example");
            Assert.That(
                lines!.Any(line => Regex.IsMatch(line, $@"^(# )?{Regex.Escape(name)} = ")),
                Is.True,
                $"{key.TomlName} is not in the example, set or commented out");
        }
    }

    [Test]
    public void The_example_parses_to_the_embedded_defaults()
    {
        var defaults = new ServerConfig();

        var (parsed, namesServer) = ConfigLoader.Parse(ExampleConfig.Text, "config.toml.example", defaults);

        Assert.That(namesServer, Is.True, "a config file must set server_name, so the example does");
        Assert.Multiple(() =>
        {
            foreach (var key in ConfigKeys.All)
                Assert.That(key.Show(parsed), Is.EqualTo(key.Show(defaults)), key.TomlName);
        });
        Assert.DoesNotThrow(() => ConfigValidator.Validate(parsed));
    }

    [Test]
    public void The_example_sets_every_key_that_has_a_default_so_it_shows_the_value()
    {
        var (parsed, _) = ConfigLoader.Parse(ExampleConfig.Text, "config.toml.example", new ServerConfig());
        var text = ExampleConfig.Text;

        foreach (var key in ConfigKeys.All.Where(k => k.Show(parsed) != ConfigKey.Unset))
        {
            var name = key.Path[(key.Path.LastIndexOf('.') + 1)..];
            Assert.That(text, Does.Match($"(?m)^{Regex.Escape(name)} = {Regex.Escape(key.Show(parsed))}$"), key.TomlName);
        }
    }

    /// <summary>The example's lines grouped under their table header (commented headers do not count).</summary>
    private static Dictionary<string, List<string>> Sections(string toml)
    {
        var sections = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in toml.Split('\n'))
        {
            var header = HeaderPattern().Match(line);
            if (header.Success)
                sections[header.Groups[1].Value] = current = [];
            else
                current?.Add(line);
        }
        return sections;
    }

    [GeneratedRegex(@"^\[([a-z_.]+)\]\s*$")]
    private static partial Regex HeaderPattern();
}
