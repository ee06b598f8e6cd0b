using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// Durability against a crash: a child process commits batches from several threads and prints each
/// batch id once its commit returned; it is killed with SIGKILL mid-stream. Every printed batch must
/// be there after reopening, complete, and no batch may be there in part.
/// </summary>
public sealed class CrashTests
{
    // Enough commits for a few of LiteDB's checkpoints (1,000 log pages each), so the kill can
    // also land in or after one; the time limit keeps a slow machine within the suite's budget.
    private const int AcknowledgedTarget = 1200;
    private static readonly TimeSpan WriteLimit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task Every_acknowledged_batch_survives_SIGKILL_complete()
    {
        using var dir = new TempDirectory();
        List<ulong> acknowledged;
        using (var writer = ChildProcess.Start(CrashWriter.Role, dir.Path))
        {
            await writer.WaitForLinesAsync(lines => lines.Count >= AcknowledgedTarget, WriteLimit);
            Assert.That(writer.HasExited, Is.False, () => writer.StandardError.Result);
            await writer.KillAsync();
            acknowledged = [.. writer.Lines.Select(ulong.Parse)];
        }
        Assert.That(acknowledged, Is.Not.Empty);

        using var store = KvStore.Open(dir.Path);
        var entries = store.Tree(CrashWriter.EntriesTree);
        var batches = store.Tree(CrashWriter.BatchesTree);
        var stored = batches.ScanRange(null, null).ToDictionary(e => KeyCodec.ReadU64(e.Key), e => KeyCodec.ReadU64(e.Value));

        Assert.That(acknowledged.Where(id => !stored.ContainsKey(id)), Is.Empty, "acknowledged batches missing after the crash");
        foreach (var (id, _) in stored)
        {
            var batchEntries = entries.ScanPrefix(KeyCodec.Join(KeyCodec.U64(id), [])).ToList();
            Assert.That(batchEntries, Has.Count.EqualTo(CrashWriter.EntriesPerBatch), $"batch {id} is incomplete");
            for (var entry = 0; entry < CrashWriter.EntriesPerBatch; entry++)
            {
                Assert.That(batchEntries[entry].Key, Is.EqualTo(CrashWriter.EntryKey(id, entry)));
                Assert.That(batchEntries[entry].Value, Is.EqualTo(CrashWriter.EntryValue(id, entry)), $"batch {id} entry {entry}");
            }
        }
        Assert.That(entries.ScanRange(null, null).Count(), Is.EqualTo(stored.Count * CrashWriter.EntriesPerBatch), "entries of a batch that is not there");
        Assert.That(stored.Values, Is.Unique, "a count was handed out twice");
        Assert.That(store.CurrentCount, Is.GreaterThanOrEqualTo(stored.Values.Max()));
        TestContext.Out.WriteLine($"{acknowledged.Count} batches acknowledged, {stored.Count} found after the kill");
    }
}
