using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>Prefix and range scans, forwards and backwards, with their bounds.</summary>
public sealed class ScanTests
{
    private TempDirectory _dir = null!;
    private KvStore _store = null!;
    private KvTree _tree = null!;

    [SetUp]
    public void Open()
    {
        _dir = new TempDirectory();
        _store = KvStore.Open(_dir.Path);
        _tree = _store.Tree("scan");
    }

    [TearDown]
    public void Close()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private static string Hex(byte[] key) => key.Length == 0 ? "()" : Convert.ToHexString(key);

    private static string Keys(IEnumerable<KeyValuePair<byte[], byte[]>> entries) => string.Join(' ', entries.Select(e => Hex(e.Key)));

    private static string Values(IEnumerable<KeyValuePair<byte[], byte[]>> entries) => string.Join(' ', entries.Select(e => Hex(e.Value)));

    private void PutAll(params byte[][] keys)
    {
        using var batch = new WriteBatch();
        foreach (var key in keys)
            batch.Put(_tree, key, [.. key, 0xEE]);
        _store.Commit(batch);
    }

    [Test]
    public void A_prefix_scan_returns_exactly_the_keys_under_the_prefix_both_ways()
    {
        PutAll([0x10], [0x10, 0x00], [0x10, 0xFF], [0x10, 0xFF, 0x01], [0x10, 0xFF, 0xFF], [0x10, 0xFF, 0xFF, 0x00], [0x11], [0x0F, 0xFF]);

        Assert.That(Keys(_tree.ScanPrefix([0x10, 0xFF])), Is.EqualTo("10FF 10FF01 10FFFF 10FFFF00"));
        Assert.That(Keys(_tree.ScanPrefix([0x10, 0xFF], reverse: true)), Is.EqualTo("10FFFF00 10FFFF 10FF01 10FF"));
        Assert.That(Keys(_tree.ScanPrefix([0x10])), Is.EqualTo("10 1000 10FF 10FF01 10FFFF 10FFFF00"));
        Assert.That(Values(_tree.ScanPrefix([0x10])), Is.EqualTo("10EE 1000EE 10FFEE 10FF01EE 10FFFFEE 10FFFF00EE"));
        Assert.That(_tree.ScanPrefix([0x12]), Is.Empty);
    }

    [Test]
    public void A_prefix_of_0xFF_bytes_has_no_upper_bound()
    {
        PutAll([0xFE], [0xFF], [0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x00]);

        Assert.That(Keys(_tree.ScanPrefix([0xFF, 0xFF])), Is.EqualTo("FFFF FFFFFF00"));
        Assert.That(Keys(_tree.ScanPrefix([0xFF, 0xFF], reverse: true)), Is.EqualTo("FFFFFF00 FFFF"));
        Assert.That(_tree.ScanPrefix([]).Count(), Is.EqualTo(4));
    }

    [Test]
    public void A_range_includes_its_start_and_excludes_its_end_both_ways()
    {
        PutAll([0x01], [0x02], [0x02, 0x00], [0x03], [0x04]);

        Assert.That(Keys(_tree.ScanRange([0x02], [0x04])), Is.EqualTo("02 0200 03"));
        Assert.That(Keys(_tree.ScanRange([0x02], [0x04], reverse: true)), Is.EqualTo("03 0200 02"));
        Assert.That(Keys(_tree.ScanRange([0x01, 0x00], [0x03])), Is.EqualTo("02 0200"));
    }

    [Test]
    public void An_open_bound_reaches_the_end_of_the_tree_both_ways()
    {
        PutAll([], [0x01], [0x02], [0xFF, 0xFF]);

        Assert.That(Keys(_tree.ScanRange(null, [0x02])), Is.EqualTo("() 01"));
        Assert.That(Keys(_tree.ScanRange(null, [0x02], reverse: true)), Is.EqualTo("01 ()"));
        Assert.That(Keys(_tree.ScanRange([0x02], null)), Is.EqualTo("02 FFFF"));
        Assert.That(Keys(_tree.ScanRange([0x02], null, reverse: true)), Is.EqualTo("FFFF 02"));
    }

    [Test]
    public void An_empty_or_inverted_range_is_empty()
    {
        PutAll([0x01], [0x02], [0x03]);

        Assert.That(_tree.ScanRange([0x02], [0x02]), Is.Empty);
        Assert.That(_tree.ScanRange([0x03], [0x01]), Is.Empty);
        Assert.That(_tree.ScanRange([0x03], [0x01], reverse: true), Is.Empty);
        Assert.That(_store.Tree("never_written").ScanRange(null, null), Is.Empty);
    }

    [Test]
    public void Long_scans_see_every_entry_once_in_order_across_read_chunks()
    {
        var keys = Enumerable.Range(0, 5000).Select(i => KeyCodec.Join([0x42], KeyCodec.U64((ulong)i))).ToArray();
        PutAll(keys);
        var hexes = keys.Select(Hex).ToArray();

        Assert.That(_tree.ScanPrefix([0x42, 0xFF]).Select(e => Hex(e.Key)), Is.EqualTo(hexes));
        Assert.That(_tree.ScanPrefix([0x42, 0xFF], reverse: true).Select(e => Hex(e.Key)), Is.EqualTo(hexes.Reverse()));
        Assert.That(_tree.ScanRange(keys[100], keys[3000]).Select(e => Hex(e.Key)), Is.EqualTo(hexes[100..3000]));
        Assert.That(_tree.ScanRange(keys[100], keys[3000], reverse: true).Select(e => Hex(e.Key)), Is.EqualTo(hexes[100..3000].Reverse()));
        Assert.That(_tree.ScanPrefix([0x42, 0xFF], reverse: true).Take(20).Select(e => Hex(e.Key)), Is.EqualTo(hexes[^20..].Reverse()));
    }

    [Test]
    public async Task A_scan_can_pause_across_awaits_and_commits_on_the_same_thread()
    {
        var keys = Enumerable.Range(0, 300).Select(i => KeyCodec.U64((ulong)i * 2)).ToArray();
        PutAll(keys);

        var seen = new List<ulong>();
        foreach (var (key, _) in _tree.ScanRange(null, null))
        {
            seen.Add(KeyCodec.ReadU64(key));
            if (seen.Count % 50 == 0)
            {
                // A LiteDB transaction left open by the scan would make this commit fail (LiteDB
                // binds transactions to threads) and would hold back checkpoints.
                _tree.Put(KeyCodec.U64(1_000_000 + (ulong)seen.Count), [1]);
                await Task.Yield();
            }
        }

        Assert.That(seen.Take(300), Is.EqualTo(keys.Select(k => KeyCodec.ReadU64(k))));
        Assert.That(seen, Is.Ordered.And.Unique);
    }
}
