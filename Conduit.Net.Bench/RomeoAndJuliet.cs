using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Conduit.Net.Bench;

/// <summary>
/// The public "Romeo and Juliet" homeserver benchmark's workload: every speaker becomes a user the
/// first time it speaks (register, log in, set the display name, join the one public room), then
/// each spoken line is one acknowledged <c>/send</c>, strictly one at a time in the play's order.
/// </summary>
internal static class RomeoAndJuliet
{
    private const string StageDirection = "STAGE DIRECTION";

    /// <summary>Published wall times for the same workload (2022-05), each row's servers on one machine.</summary>
    private static readonly (string Server, string Machine, double Seconds)[] Published =
    [
        ("Conduit / RocksDB", "Ryzen 5 1600 + NVMe", 42),
        ("Dendrite / PostgreSQL", "Ryzen 5 1600 + NVMe", 222),
        ("Synapse / PostgreSQL", "Ryzen 5 1600 + NVMe", 231),
        ("Conduit / SQLite", "i7 7th gen + NVMe, macOS", 28),
        ("Dendrite / SQLite", "i7 7th gen + NVMe, macOS", 51),
    ];

    /// <summary>
    /// The play as (speaker, line) pairs, read as the original tool reads it: an indented line is
    /// spoken by the current speaker; a blank line makes the speaker "STAGE DIRECTION"; a line
    /// starting with "ACT" is spoken by "ACTS"; any other line names the next speaker, and the line
    /// after it is skipped (so scene headings become speakers too, as in the original).
    /// </summary>
    public static IEnumerable<(string Speaker, string Line)> Lines(IEnumerable<string> file)
    {
        var speaker = StageDirection;
        using var lines = file.GetEnumerator();
        while (lines.MoveNext())
        {
            var line = lines.Current;
            if (line.Trim().Length == 0)
                speaker = StageDirection;
            else if (line.StartsWith(' '))
                yield return (speaker, line.Trim());
            else if (line.StartsWith("ACT", StringComparison.Ordinal))
                yield return ("ACTS", line.Trim());
            else
            {
                speaker = line.Trim();
                lines.MoveNext();
            }
        }
    }

    /// <summary>The original tool's user name for a speaker: lower case, anything but ASCII letters and digits as '_'.</summary>
    public static string Username(string speaker)
    {
        var name = new StringBuilder(speaker.Length);
        foreach (var c in speaker.ToLowerInvariant())
            name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        return name.ToString();
    }

    public static async Task<Section> RunAsync(BenchContext context, string playPath, CancellationToken cancellationToken)
    {
        var fileLines = File.ReadLines(playPath);
        var partial = context.Sizes.RomeoAndJulietFileLines;
        if (partial is int count)
            fileLines = fileLines.Take(count);
        var script = Lines(fileLines).ToList();
        BenchContext.Progress($"romeo-juliet: {script.Count} lines{(partial is null ? "" : $" (the first {partial} lines of the file only)")}");

        var section = new Section(
            "romeo_and_juliet",
            "Romeo and Juliet workload" + (partial is null ? "" : $" (partial: first {partial} lines of the file)"),
            "One user creates a public room; the clock starts once it exists, as in the original tool. Then, in the play's order, one " +
            "PUT /send per spoken line by its speaker, each acknowledged before the next; a speaker's first line is preceded by its " +
            "register, login (its token is the one used), display name and join, all inside the timed run. The server was fresh (this " +
            "workload runs first) and not warmed up.");

        var host = await context.Client.RegisterAsync("rj_host", cancellationToken);
        var room = await host.CreateRoomAsync(
            new JsonObject { ["name"] = "Romeo and Juliet", ["preset"] = "public_chat", ["visibility"] = "public" }, cancellationToken);

        var characters = new Dictionary<string, Session>(StringComparer.Ordinal);
        var accounts = TimeSpan.Zero;
        var wall = await context.MeasureServerAsync(section, async () =>
        {
            var start = Stopwatch.GetTimestamp();
            foreach (var (speaker, line) in script)
            {
                var username = Username(speaker);
                if (!characters.TryGetValue(username, out var character))
                {
                    var joining = Stopwatch.GetTimestamp();
                    await context.Client.RegisterAsync(username, cancellationToken);
                    character = await context.Client.LoginAsync(username, cancellationToken);
                    await character.SetDisplayNameAsync(speaker, cancellationToken);
                    await character.JoinAsync(room, cancellationToken);
                    characters[username] = character;
                    accounts += Stopwatch.GetElapsedTime(joining);
                }

                await character.SendTextAsync(room, line, cancellationToken);
            }

            return BenchContext.Seconds(start);
        });

        section.Line("lines", "lines sent", script.Count, $"{script.Count:N0}");
        section.Line("characters", "characters (users)", characters.Count, $"{characters.Count}");
        section.Figure("wall_seconds", "wall time", wall, "s", 2);
        // Registration and login hash a password (Argon2id, memory-hard on purpose): a cost the sends do not share.
        section.Figure("account_setup_seconds", "of which character sign-ups", accounts.TotalSeconds, "s (register, login, name, join)", 2);
        section.Figure("messages_per_second", "rate", script.Count / wall, "messages/s (wall time incl. sign-ups)");
        if (partial is not null)
        {
            section.Line("comparison", "published figures", "not compared: partial run", "not compared: partial run (--quick)");
            return section;
        }

        var published = new JsonArray();
        foreach (var (server, machine, seconds) in Published)
        {
            published.Add(new JsonObject { ["server"] = server, ["machine"] = machine, ["wall_seconds"] = seconds });
            section.Rows.Add(($"published: {server}", $"{Duration(seconds)} on {machine} (2022); published ÷ ours = {seconds / wall:N2}"));
        }

        section.Detail("published", published);
        section.Line(
            "comparison_note",
            "note",
            "Published figures come from other hardware and years; only the order of magnitude compares.",
            "published figures are from other hardware (2022); compare orders of magnitude only");
        return section;
    }

    private static string Duration(double seconds) =>
        seconds >= 60 ? $"{(int)(seconds / 60)} min {seconds % 60:0} s" : $"{seconds:0} s";
}
