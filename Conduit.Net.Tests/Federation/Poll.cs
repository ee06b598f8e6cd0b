namespace Conduit.Net.Tests.Federation;

/// <summary>Waiting for something another server does in the background; the test asserts the outcome afterwards.</summary>
internal static class Poll
{
    /// <summary>Returns once <paramref name="condition"/> holds, or after about a minute (the assertion that follows then fails).</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
            await Task.Delay(100);
    }

    /// <summary>Returns once <paramref name="condition"/> holds, or after about a minute (the assertion that follows then fails).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 600 && !await condition(); i++)
            await Task.Delay(100);
    }
}
