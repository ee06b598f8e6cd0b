namespace Conduit.Net.Bench;

/// <summary>Summaries of a set of durations in milliseconds.</summary>
internal static class Stats
{
    /// <summary>The nearest-rank percentile: the smallest sample with at least <paramref name="percent"/>% of samples at or below it.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double percent)
    {
        if (samples.Count == 0)
            return double.NaN;
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyList<double> samples) => Percentile(samples, 50);

    public static double Milliseconds(long fromTimestamp, long toTimestamp) =>
        System.Diagnostics.Stopwatch.GetElapsedTime(fromTimestamp, toTimestamp).TotalMilliseconds;
}
