using System.Globalization;
using Conduit.Net.Core.Errors;

namespace Conduit.Net.Services.Sync;

/// <summary>
/// The <c>next_batch</c> / <c>since</c> token: the store's committed watermark the response was built
/// up to, in decimal. Every sync stream takes its positions from the one global counter (timeline,
/// account data, receipts, typing, presence, and the end-to-end streams to come), so one number says
/// how far each of them was read, and it stays meaningful across restarts because the counter is
/// stored. It is also a valid <c>/messages</c> token (see <c>TimelineToken</c>): the spec has clients
/// close a gap with <c>/messages?from=since&amp;to=prev_batch</c>.
/// </summary>
public static class SyncToken
{
    public static string Format(ulong position) => position.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The position of a <c>since</c> token: 400 <c>M_INVALID_PARAM</c> for anything this server
    /// did not hand out, including a position past <paramref name="latest"/> (a token of another
    /// server, or of this one before its data was restored from an older backup), which could
    /// otherwise hold a client's sync loop forever.
    /// </summary>
    public static ulong Parse(string token, ulong latest)
    {
        if (token.Length is 0 or > 20 || !token.All(char.IsAsciiDigit)
            || !ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            throw MatrixException.InvalidParam("since is not a sync token of this server.");
        if (position > latest)
            throw MatrixException.InvalidParam("since is a sync token from the future: this server has not reached that position.");
        return position;
    }
}
