using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>One process holds a data directory at a time; the others fail at once and say why.</summary>
public sealed class LockTests
{
    [Test]
    public void A_second_open_in_the_same_process_fails_fast()
    {
        using var dir = new TempDirectory();
        using (KvStore.Open(dir.Path))
        {
            var error = Assert.Throws<DataDirectoryInUseException>(() => KvStore.Open(dir.Path))!;
            Assert.That(error.Message, Does.Contain("is in use by a running server"));
        }
        Assert.That(() => KvStore.Open(dir.Path).Dispose(), Throws.Nothing, "the lock is free again once the first store is closed");
    }

    [Test]
    public async Task An_open_while_another_process_holds_the_directory_fails_fast()
    {
        using var dir = new TempDirectory();
        using var holder = ChildProcess.Start(LockHolder.Role, dir.Path);
        await holder.WaitForLinesAsync(lines => lines.Contains(LockHolder.Ready), TimeSpan.FromSeconds(60));
        Assert.That(holder.Lines, Does.Contain(LockHolder.Ready), await StandardErrorIfExited(holder));

        var error = Assert.Throws<DataDirectoryInUseException>(() => KvStore.Open(dir.Path))!;
        Assert.That(error.Message, Does.Contain(Path.GetFullPath(dir.Path)).And.Contain("is in use by a running server"));

        Assert.That(await holder.CloseInputAndWaitAsync(), Is.Zero, await holder.StandardError);
        Assert.That(() => KvStore.Open(dir.Path).Dispose(), Throws.Nothing, "the lock is free again once the other process closed its store");
    }

    private static async Task<string> StandardErrorIfExited(ChildProcess child) =>
        child.HasExited ? await child.StandardError : "the child did not report the lock in time";
}
