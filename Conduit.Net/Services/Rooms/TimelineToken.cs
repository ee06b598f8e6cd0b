using System.Globalization;

namespace Conduit.Net.Services.Rooms;

/// <summary>
/// Pagination tokens of room timelines (<c>/messages</c> <c>from</c>/<c>to</c>/<c>start</c>/<c>end</c>,
/// <c>/members</c> <c>at</c>, sync's <c>prev_batch</c>): a <see cref="TimelinePosition"/> written as a
/// decimal integer. A token names the gap just after that position: the events at positions up to
/// and including it are "before" the token, the others "after". Since positions are the global
/// count, a sync <c>next_batch</c> that is the count it synced up to is a valid token too.
/// </summary>
public static class TimelineToken
{
    public static string Format(long position) => position.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? token, out long position) =>
        long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out position);
}
