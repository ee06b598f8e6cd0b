using System.Text;

namespace Conduit.Net.Core.Push;

/// <summary>
/// The appendix's glob-style matching (<c>*</c> matches zero or more characters, <c>?</c> exactly
/// one; every other character, <c>[</c> and <c>\</c> included, is itself), compared
/// case-insensitively by Unicode simple lower-casing, one code point per character.
/// </summary>
/// <remarks>
/// Matching runs the pattern as a set of states over the text (Thompson's construction), so a
/// hostile pattern such as <c>*a*a*a*a*b</c> costs pattern length × text length, never more.
/// </remarks>
public sealed class GlobPattern
{
    private const int AnyOne = -1;
    private const int AnyRun = -2;

    // Patterns come from rules and are reused for every event; display names repeat per user.
    private static readonly BoundedCache<GlobPattern> Globs = new(4096, pattern => new GlobPattern(pattern, true));
    private static readonly BoundedCache<GlobPattern> Literals = new(4096, text => new GlobPattern(text, false));

    // A lower-cased code point, or AnyOne / AnyRun; runs of '*' are folded into one.
    private readonly int[] tokens;

    private GlobPattern(string source, bool wildcards)
    {
        Source = source;
        var list = new List<int>(source.Length);
        foreach (var rune in source.EnumerateRunes())
        {
            if (wildcards && rune.Value == '*')
            {
                if (list.Count == 0 || list[^1] != AnyRun)
                    list.Add(AnyRun);
            }
            else if (wildcards && rune.Value == '?')
            {
                list.Add(AnyOne);
            }
            else
            {
                list.Add(Rune.ToLowerInvariant(rune).Value);
            }
        }
        tokens = [.. list];
    }

    public string Source { get; }

    /// <summary>The compiled glob for a pattern, from a shared cache.</summary>
    public static GlobPattern Get(string pattern) => Globs.Get(pattern);

    /// <summary>A pattern that matches the text itself, <c>*</c> and <c>?</c> included (for display names).</summary>
    public static GlobPattern Literal(string text) => Literals.Get(text);

    /// <summary>Whether the pattern matches the entire value.</summary>
    public bool IsMatch(string value) => Run(value, wordBoundaries: false);

    /// <summary>
    /// Whether the pattern matches a substring of the value that starts and ends at a word
    /// boundary: the start or end of the value, or any character outside <c>[A-Za-z0-9_]</c>.
    /// </summary>
    /// <remarks>
    /// A substring starts at a boundary when the character before it is a boundary character (or
    /// there is none) or its own first character is one; it ends at one likewise. So <c>alice</c>
    /// is found in <c>hi alice!</c> but not in <c>malice</c>, and <c>@room</c> in <c>hey@room</c>.
    /// </remarks>
    public bool IsWordMatch(string value) => Run(value, wordBoundaries: true);

    public override string ToString() => Source;

    private bool Run(string text, bool wordBoundaries)
    {
        var stateCount = tokens.Length + 1;
        var current = stateCount <= 256 ? stackalloc bool[stateCount] : new bool[stateCount];
        var next = stateCount <= 256 ? stackalloc bool[stateCount] : new bool[stateCount];
        var accept = tokens.Length;
        var active = false;
        Rune? previous = null;
        var position = 0;
        while (true)
        {
            Rune? here = null;
            if (position < text.Length)
            {
                Rune.DecodeFromUtf16(text.AsSpan(position), out var decoded, out _);
                here = decoded;
            }

            var mayStart = wordBoundaries
                ? previous is null || !IsWordCharacter(previous.Value) || (here is { } h && !IsWordCharacter(h))
                : previous is null;
            if (mayStart)
            {
                Enter(current, 0);
                active = true;
            }

            if (current[accept])
            {
                var mayEnd = wordBoundaries
                    ? here is null || !IsWordCharacter(here.Value) || (previous is { } p && !IsWordCharacter(p))
                    : here is null;
                if (mayEnd)
                    return true;
            }

            if (here is not { } character)
                return false;
            // Without word boundaries a match can only start at 0, so no live state means no match.
            if (!active && !wordBoundaries)
                return false;

            next.Clear();
            active = false;
            var folded = Rune.ToLowerInvariant(character).Value;
            for (var state = 0; state < tokens.Length; state++)
            {
                if (!current[state])
                    continue;
                var token = tokens[state];
                if (token == AnyRun)
                    Enter(next, state);
                else if (token == AnyOne || token == folded)
                    Enter(next, state + 1);
                else
                    continue;
                active = true;
            }

            var swap = current;
            current = next;
            next = swap;
            previous = character;
            position += character.Utf16SequenceLength;
        }
    }

    // Marks a state and the states reachable from it without reading a character ('*' may match nothing).
    private void Enter(Span<bool> states, int state)
    {
        while (!states[state])
        {
            states[state] = true;
            if (state == tokens.Length || tokens[state] != AnyRun)
                break;
            state++;
        }
    }

    private static bool IsWordCharacter(Rune rune) =>
        rune.Value is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_';
}
