using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>Trees order binary keys as unsigned bytes, shorter first on a common prefix.</summary>
public sealed class KeyOrderTests
{
    private TempDirectory _dir = null!;
    private KvStore _store = null!;

    [SetUp]
    public void Open()
    {
        _dir = new TempDirectory();
        _store = KvStore.Open(_dir.Path);
    }

    [TearDown]
    public void Close()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Test]
    public void Keys_sort_as_unsigned_bytes_with_a_prefix_before_its_extensions()
    {
        byte[][] sorted =
        [
            [], [0x00], [0x00, 0x00], [0x01], [0x01, 0x00], [0x01, 0x00, 0x00], [0x01, 0x01], [0x01, 0xFF],
            [0x02], [0x7F], [0x7F, 0xFF, 0xFF], [0x80], [0x80, 0x00], [0xFE, 0xFF], [0xFF], [0xFF, 0x00], [0xFF, 0xFF, 0xFF],
        ];
        var tree = _store.Tree("order");
        using (var batch = new WriteBatch())
        {
            foreach (var key in sorted.OrderBy(_ => Random.Shared.Next()))
                batch.Put(tree, key, key);
            _store.Commit(batch);
        }

        Assert.That(tree.ScanRange(null, null).Select(e => e.Key), Is.EqualTo(sorted));
        Assert.That(tree.ScanRange(null, null, reverse: true).Select(e => e.Key), Is.EqualTo(sorted.Reverse()));
    }

    [Test]
    public void Random_keys_come_back_in_byte_order_both_ways()
    {
        var random = new Random(1234);
        var keys = new HashSet<byte[]>(ByteArrayComparer.Instance);
        while (keys.Count < 3000)
        {
            var key = new byte[random.Next(0, 7)];
            random.NextBytes(key);
            keys.Add(key);
        }
        var tree = _store.Tree("random");
        using (var batch = new WriteBatch())
        {
            foreach (var key in keys)
                batch.Put(tree, key, [1]);
            _store.Commit(batch);
        }
        var expected = keys.ToList();
        expected.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));

        Assert.That(tree.ScanRange(null, null).Select(e => e.Key), Is.EqualTo(expected));
        expected.Reverse();
        Assert.That(tree.ScanRange(null, null, reverse: true).Select(e => e.Key), Is.EqualTo(expected));
    }

    [Test]
    public void A_key_at_the_index_limit_works_and_a_longer_one_is_refused_clearly()
    {
        var tree = _store.Tree("long_keys");
        var longest = Enumerable.Repeat((byte)0xAB, KvTree.MaxKeyLength).ToArray();
        tree.Put(longest, [7]);
        Assert.That(tree.Get(longest), Is.EqualTo(new byte[] { 7 }));

        var tooLong = new byte[KvTree.MaxKeyLength + 1];
        var error = Assert.Throws<ArgumentException>(() => tree.Put(tooLong, [7]))!;
        Assert.That(error.Message, Does.Contain($"{KvTree.MaxKeyLength + 1} bytes").And.Contain($"limit of {KvTree.MaxKeyLength}"));
        Assert.Throws<ArgumentException>(() => new WriteBatch().Remove(tree, tooLong));
        Assert.Throws<ArgumentException>(() => tree.Get(tooLong));
    }

    [Test]
    public void A_scan_continues_past_keys_at_the_index_limit()
    {
        // A forward scan resumes after a chunk's last key from that key plus one byte: one byte over the
        // key limit, which LiteDB must accept as a bound.
        var tree = _store.Tree("long_keys");
        var keys = Enumerable.Range(0, 100).Select(i => Enumerable.Repeat((byte)i, KvTree.MaxKeyLength).ToArray()).ToList();
        using (var batch = new WriteBatch())
        {
            foreach (var key in keys)
                batch.Put(tree, key, [1]);
            _store.Commit(batch);
        }

        Assert.That(tree.ScanRange(null, null).Select(e => e.Key[0]), Is.EqualTo(keys.Select(k => k[0])));
        Assert.That(tree.ScanRange(null, null, reverse: true).Select(e => e.Key[0]), Is.EqualTo(keys.Select(k => k[0]).Reverse()));
    }

    [Test]
    public void Tree_names_are_lower_case_words()
    {
        Assert.Throws<ArgumentException>(() => _store.Tree("Users"));
        Assert.Throws<ArgumentException>(() => _store.Tree("with space"));
        Assert.Throws<ArgumentException>(() => _store.Tree("$system"));
        Assert.Throws<ArgumentException>(() => _store.Tree(""));
        Assert.That(_store.Tree("event_ids2").Name, Is.EqualTo("event_ids2"));
    }
}
