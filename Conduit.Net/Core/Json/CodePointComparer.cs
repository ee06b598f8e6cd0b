namespace Conduit.Net.Core.Json;

/// <summary>
/// Orders strings by Unicode code point, as canonical JSON sorts keys. Ordinal comparison of UTF-16
/// differs from it in one place: a surrogate pair (U+10000 and above) sorts below U+E000..U+FFFF.
/// </summary>
public sealed class CodePointComparer : IComparer<string>
{
    public static readonly CodePointComparer Instance = new();

    private CodePointComparer()
    {
    }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return -1;
        if (y is null)
            return 1;
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            if (x[i] != y[i])
                return Rank(x[i]) - Rank(y[i]);
        }
        return x.Length - y.Length;
    }

    // Moves surrogates above U+E000..U+FFFF so that code unit order becomes code point order.
    private static int Rank(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
