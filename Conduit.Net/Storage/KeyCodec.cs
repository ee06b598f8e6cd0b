using System.Buffers.Binary;

namespace Conduit.Net.Storage;

/// <summary>
/// Composite keys: parts joined by 0xFF (which never occurs in UTF-8 text), integers as 8-byte
/// big-endian so that byte order is numeric order.
/// </summary>
public static class KeyCodec
{
    public const byte Separator = 0xFF;

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    public static ulong ReadU64(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt64BigEndian(bytes);

    public static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    public static string ReadUtf8(ReadOnlySpan<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    /// <summary>Joins parts with the separator: <c>a 0xFF b 0xFF c</c>.</summary>
    public static byte[] Join(params ReadOnlySpan<byte[]> parts)
    {
        var length = parts.Length == 0 ? 0 : parts.Length - 1;
        foreach (var part in parts)
            length += part.Length;
        var key = new byte[length];
        var offset = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
                key[offset++] = Separator;
            parts[i].CopyTo(key, offset);
            offset += parts[i].Length;
        }
        return key;
    }

    /// <summary>Joins string parts as UTF-8 with the separator.</summary>
    public static byte[] Join(params ReadOnlySpan<string> parts)
    {
        var bytes = new byte[parts.Length][];
        for (var i = 0; i < parts.Length; i++)
            bytes[i] = Utf8(parts[i]);
        return Join(bytes);
    }

    /// <summary>The parts between separators; only meaningful when no part is a raw integer.</summary>
    public static string[] SplitUtf8(ReadOnlySpan<byte> key)
    {
        var parts = new List<string>();
        while (true)
        {
            var index = key.IndexOf(Separator);
            if (index < 0)
            {
                parts.Add(ReadUtf8(key));
                return [.. parts];
            }
            parts.Add(ReadUtf8(key[..index]));
            key = key[(index + 1)..];
        }
    }

    /// <summary><paramref name="prefix"/> followed by the separator, for scanning every key under it.</summary>
    public static byte[] Prefix(params ReadOnlySpan<string> parts)
    {
        var joined = Join(parts);
        var prefix = new byte[joined.Length + 1];
        joined.CopyTo(prefix, 0);
        prefix[^1] = Separator;
        return prefix;
    }
}
