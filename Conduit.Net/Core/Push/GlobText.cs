using System.Text;

namespace Conduit.Net.Core.Push;

/// <summary>
/// A text made ready for <see cref="GlobPattern"/> matching: its code points lower-cased once
/// (Unicode simple lower-casing, as patterns are) and, for each, whether the original is a word
/// character (<c>[A-Za-z0-9_]</c>). Matching many patterns against one event body (a display name
/// and a localpart per member) then costs no decoding or case folding per pattern.
/// </summary>
public sealed class GlobText
{
    private GlobText(string source, int[] folded, bool[] isWord)
    {
        Source = source;
        Folded = folded;
        IsWord = isWord;
    }

    public string Source { get; }

    internal int[] Folded { get; }

    internal bool[] IsWord { get; }

    public static GlobText Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var folded = new List<int>(text.Length);
        var isWord = new List<bool>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            folded.Add(Rune.ToLowerInvariant(rune).Value);
            isWord.Add(rune.Value is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_');
        }
        return new GlobText(text, [.. folded], [.. isWord]);
    }
}
