namespace Conduit.Net.Core.Json;

/// <summary>
/// The spec's unpadded base64 (appendix "Unpadded Base64"): RFC 4648 without <c>=</c> padding, in the
/// standard alphabet and (for event ids of room versions 4 and later) the URL-safe one. Decoding accepts
/// input with or without padding, as the appendix asks, but nothing else: no whitespace, no stray
/// characters, no misplaced <c>=</c>.
/// </summary>
public static class UnpaddedBase64
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    public static string EncodeUrlSafe(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out byte[] bytes) => TryDecode(text, urlSafe: false, out bytes);

    public static bool TryDecodeUrlSafe(string text, out byte[] bytes) => TryDecode(text, urlSafe: true, out bytes);

    public static byte[] Decode(string text) =>
        TryDecode(text, out var bytes) ? bytes : throw new FormatException("The value is not valid unpadded base64.");

    public static byte[] DecodeUrlSafe(string text) =>
        TryDecodeUrlSafe(text, out var bytes) ? bytes : throw new FormatException("The value is not valid URL-safe unpadded base64.");

    private static bool TryDecode(string text, bool urlSafe, out byte[] bytes)
    {
        bytes = [];
        var body = text.AsSpan().TrimEnd('=');
        var padding = text.Length - body.Length;
        if (body.Length % 4 == 1 || padding > 2 || (padding > 0 && text.Length % 4 != 0))
            return false;

        // Convert only knows the padded standard alphabet; rebuild that form after checking every character.
        var standard = new char[(body.Length + 3) / 4 * 4];
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (char.IsAsciiLetterOrDigit(c))
                standard[i] = c;
            else if (c == (urlSafe ? '-' : '+'))
                standard[i] = '+';
            else if (c == (urlSafe ? '_' : '/'))
                standard[i] = '/';
            else
                return false;
        }
        standard.AsSpan(body.Length).Fill('=');

        var decoded = new byte[standard.Length / 4 * 3];
        if (!Convert.TryFromBase64Chars(standard, decoded, out var written))
            return false;
        bytes = decoded[..written];
        return true;
    }
}
