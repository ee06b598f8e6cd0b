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

    // No wildcard: matching is a search for the code points.
    private readonly bool literal;

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
        literal = tokens.Length > 0 && !list.Exists(t => t is AnyOne or AnyRun);
    }

    public string Source { get; }

    /// <summary>The compiled glob for a pattern, from a shared cache.</summary>
    public static GlobPattern Get(string pattern) => Globs.Get(pattern);

    /// <summary>A pattern that matches the text itself, <c>*</c> and <c>?</c> included (for display names).</summary>
    public static GlobPattern Literal(string text) => Literals.Get(text);

    /// <summary>As <see cref="Get"/>, outside the shared cache: for owners that keep the pattern themselves.</summary>
    public static GlobPattern Compile(string pattern) => new(pattern, true);

    /// <summary>As <see cref="Literal"/>, outside the shared cache.</summary>
    public static GlobPattern CompileLiteral(string text) => new(text, false);

    /// <summary>Whether the pattern matches the entire value.</summary>
    public bool IsMatch(string value) => IsMatch(GlobText.Of(value));

    /// <summary>As <see cref="IsMatch(string)"/>, on a text prepared once for many patterns.</summary>
    public bool IsMatch(GlobText text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return literal ? text.Folded.AsSpan().SequenceEqual(tokens) : Run(text, wordBoundaries: false);
    }

    /// <summary>
    /// Whether the pattern matches a substring of the value that starts and ends at a word
    /// boundary: the start or end of the value, or any character outside <c>[A-Za-z0-9_]</c>.
    /// </summary>
    /// <remarks>
    /// A substring starts at a boundary when the character before it is a boundary character (or
    /// there is none) or its own first character is one; it ends at one likewise. So <c>alice</c>
    /// is found in <c>hi alice!</c> but not in <c>malice</c>, and <c>@room</c> in <c>hey@room</c>.
    /// </remarks>
    public bool IsWordMatch(string value) => IsWordMatch(GlobText.Of(value));

    /// <summary>As <see cref="IsWordMatch(string)"/>, on a text prepared once for many patterns.</summary>
    public bool IsWordMatch(GlobText text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return literal ? FindWordBounded(text) : Run(text, wordBoundaries: true);
    }

    public override string ToString() => Source;

    /// <summary>
    /// A pattern without wildcards (display names, localparts) is a plain search: each place where
    /// its code points occur is checked for word boundaries, as <see cref="Run"/> would.
    /// </summary>
    private bool FindWordBounded(GlobText text)
    {
        var folded = text.Folded.AsSpan();
        var word = text.IsWord;
        var length = tokens.Length;
        var from = 0;
        while (from + length <= folded.Length)
        {
            var found = folded[from..].IndexOf(tokens);
            if (found < 0)
                return false;
            var start = from + found;
            var end = start + length;
            var startsAtBoundary = start == 0 || !word[start - 1] || !word[start];
            var endsAtBoundary = end == folded.Length || !word[end] || !word[end - 1];
            if (startsAtBoundary && endsAtBoundary)
                return true;
            from = start + 1;
        }
        return false;
    }

    private bool Run(GlobText text, bool wordBoundaries)
    {
        var folded = text.Folded;
        var word = text.IsWord;
        var stateCount = tokens.Length + 1;
        var current = stateCount <= 256 ? stackalloc bool[stateCount] : new bool[stateCount];
        var next = stateCount <= 256 ? stackalloc bool[stateCount] : new bool[stateCount];
        var accept = tokens.Length;
        var active = false;
        for (var position = 0; ; position++)
        {
            var atEnd = position == folded.Length;
            var mayStart = wordBoundaries
                ? position == 0 || !word[position - 1] || (!atEnd && !word[position])
                : position == 0;
            if (mayStart)
            {
                Enter(current, 0);
                active = true;
            }

            if (current[accept])
            {
                var mayEnd = wordBoundaries
                    ? atEnd || !word[position] || (position > 0 && !word[position - 1])
                    : atEnd;
                if (mayEnd)
                    return true;
            }

            if (atEnd)
                return false;
            // Without word boundaries a match can only start at 0, so no live state means no match.
            if (!active && !wordBoundaries)
                return false;

            next.Clear();
            active = false;
            var character = folded[position];
            for (var state = 0; state < tokens.Length; state++)
            {
                if (!current[state])
                    continue;
                var token = tokens[state];
                if (token == AnyRun)
                    Enter(next, state);
                else if (token == AnyOne || token == character)
                    Enter(next, state + 1);
                else
                    continue;
                active = true;
            }

            var swap = current;
            current = next;
            next = swap;
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
}
