using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// The crash test's child: four threads commit batches as fast as the disk allows and print each
/// batch's id once <see cref="KvStore.Commit"/> has returned for it. It runs until it is killed.
/// </summary>
internal static class CrashWriter
{
    public const string Role = "crash-writer";
    public const string EntriesTree = "crash_entries";
    public const string BatchesTree = "crash_batches";
    public const int EntriesPerBatch = 8;
    private const int ValueLength = 200;

    // Bounds an orphaned child whose test died without killing it.
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    public static byte[] EntryKey(ulong batch, int entry) => KeyCodec.Join(KeyCodec.U64(batch), KeyCodec.U64((ulong)entry));

    public static byte[] EntryValue(ulong batch, int entry)
    {
        var value = new byte[ValueLength];
        for (var i = 0; i < value.Length; i++)
            value[i] = (byte)((batch * 31) + ((ulong)entry * 7) + (ulong)i);
        return value;
    }

    public static int Run(string directory)
    {
        var store = KvStore.Open(directory);
        var entries = store.Tree(EntriesTree);
        var batches = store.Tree(BatchesTree);
        long next = 0;
        var writers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            while (true)
            {
                var id = (ulong)Interlocked.Increment(ref next);
                using var batch = new WriteBatch();
                var count = store.NextCount(batch);
                for (var entry = 0; entry < EntriesPerBatch; entry++)
                    batch.Put(entries, EntryKey(id, entry), EntryValue(id, entry));
                batch.Put(batches, KeyCodec.U64(id), KeyCodec.U64(count));
                store.Commit(batch);
                Console.Out.WriteLine(id);
            }
        })
        { IsBackground = true }).ToList();
        writers.ForEach(w => w.Start());
        writers[0].Join(Lifetime);
        return 3;
    }
}

/// <summary>The lock test's child: opens the store, says "locked", and holds it until its input closes.</summary>
internal static class LockHolder
{
    public const string Role = "hold-lock";
    public const string Ready = "locked";

    public static int Run(string directory)
    {
        using var store = KvStore.Open(directory);
        Console.Out.WriteLine(Ready);
        Console.In.ReadToEnd();
        return 0;
    }
}

/// <summary>A fresh directory under the temp folder, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "conduit-net-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Never created: the test failed before opening a store.
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the OS cleans the temp folder.
        }
    }
}
