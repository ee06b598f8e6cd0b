using System.Buffers.Binary;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Positions in a room's timeline. An event appended here gets the global count of its batch (a
/// positive number, the stream position sync reads). Events backfilled from other servers (later,
/// with federation) get negative positions counting down, so that they sort before everything the
/// room had. In keys a position is 8 bytes big-endian with the sign bit flipped, which makes byte
/// order equal numeric order for negative and positive values alike.
/// </summary>
public static class TimelinePosition
{
    public const int Size = 8;

    public static void Write(Span<byte> destination, long position) =>
        BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)position ^ 0x8000_0000_0000_0000UL);

    public static long Read(ReadOnlySpan<byte> source) =>
        (long)(BinaryPrimitives.ReadUInt64BigEndian(source) ^ 0x8000_0000_0000_0000UL);

    /// <summary>The 16-byte key of a timeline entry: short room id, then the position.</summary>
    public static byte[] PduKey(ulong shortRoomId, long position)
    {
        var key = new byte[8 + Size];
        BinaryPrimitives.WriteUInt64BigEndian(key, shortRoomId);
        Write(key.AsSpan(8), position);
        return key;
    }
}
