using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// One workload's results: figures for the table and the same figures (plus details) for the JSON,
/// with the exact method in words so a number is never read without its definition.
/// </summary>
internal sealed class Section(string key, string title, string method)
{
    public string Key { get; } = key;

    public string Title { get; } = title;

    public string Method { get; } = method;

    public JsonObject Json { get; } = new() { ["method"] = method };

    public List<(string Label, string Value)> Rows { get; } = [];

    /// <summary>A measured figure: in the table as "value unit", in the JSON under <paramref name="jsonKey"/>.</summary>
    public void Figure(string jsonKey, string label, double value, string unit, int decimals = 1)
    {
        Json[jsonKey] = Math.Round(value, decimals);
        Rows.Add((label, value.ToString("N" + decimals, CultureInfo.InvariantCulture) + (unit.Length > 0 ? " " + unit : "")));
    }

    /// <summary>A fact shown in the table too (a count, a comparison).</summary>
    public void Line(string jsonKey, string label, JsonNode? value, string display)
    {
        Json[jsonKey] = value;
        Rows.Add((label, display));
    }

    /// <summary>Only in the JSON.</summary>
    public void Detail(string jsonKey, JsonNode? value) => Json[jsonKey] = value;
}

/// <summary>The whole run: machine, server, every section; printed as a table and written as JSON.</summary>
internal sealed class Report(JsonObject machine, JsonObject server, JsonObject options)
{
    private readonly List<Section> _sections = [];

    public void Add(Section section) => _sections.Add(section);

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("Machine: " + string.Join(", ", machine.Select(p => $"{p.Key}={Display(p.Value)}")));
        text.AppendLine("Server:  " + string.Join(", ", server.Select(p => $"{p.Key}={Display(p.Value)}")));
        var width = _sections.SelectMany(s => s.Rows).Select(r => r.Label.Length).DefaultIfEmpty(0).Max();
        foreach (var section in _sections)
        {
            text.AppendLine();
            text.AppendLine(section.Title);
            text.AppendLine(new string('-', section.Title.Length));
            foreach (var line in Wrap(section.Method, 100))
                text.AppendLine("  " + line);
            foreach (var (label, value) in section.Rows)
                text.Append("  ").Append(label.PadRight(width)).Append("  ").AppendLine(value);
        }

        return text.ToString();
    }

    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        var sections = new JsonObject();
        foreach (var section in _sections)
            sections[section.Key] = section.Json.DeepClone();
        var root = new JsonObject
        {
            ["generated_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["machine"] = machine.DeepClone(),
            ["server"] = server.DeepClone(),
            ["options"] = options.DeepClone(),
            ["results"] = sections,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var file = File.Create(path);
        await using var writer = new Utf8JsonWriter(file, new JsonWriterOptions
        {
            Indented = true,
            // A file for people and scripts, never embedded in HTML: '+' and quotes stay readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        root.WriteTo(writer);
        await writer.FlushAsync(cancellationToken);
    }

    private static string Display(JsonNode? value) => value switch
    {
        null => "unknown",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => value.ToJsonString(),
    };

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            if (line.Length > 0)
                line.Append(' ');
            line.Append(word);
        }

        if (line.Length > 0)
            yield return line.ToString();
    }
}
