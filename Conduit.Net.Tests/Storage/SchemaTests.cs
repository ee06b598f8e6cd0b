using Conduit.Net.Storage;

namespace Conduit.Net.Tests.Storage;

/// <summary>The schema version in the global tree, and the numbered migrations that move it.</summary>
public sealed class SchemaTests
{
    private static readonly byte[] VersionKey = KeyCodec.Utf8("schema_version");

    private TempDirectory _dir = null!;

    [SetUp]
    public void Create() => _dir = new TempDirectory();

    [TearDown]
    public void Remove() => _dir.Dispose();

    private static ulong StoredVersion(KvStore store) => KeyCodec.ReadU64(store.Tree(Trees.Global).Get(VersionKey));

    /// <summary>Versions 1..n where each step after the first appends its number to a log tree.</summary>
    private static KvStoreOptions History(int versions, Action<int>? onStep = null) => new()
    {
        Migrations = [.. Enumerable.Range(1, versions).Select(v => new SchemaMigration(v, $"step {v}", (store, batch) =>
        {
            onStep?.Invoke(v);
            var log = store.Tree("migration_log");
            var previous = log.Get([0]) ?? [];
            batch.Put(log, [0], [.. previous, (byte)v]);
        }))],
    };

    [Test]
    public void A_new_store_records_the_current_version_without_running_old_steps()
    {
        var ran = new List<int>();
        using var store = KvStore.Open(_dir.Path, History(3, ran.Add));

        Assert.That(StoredVersion(store), Is.EqualTo(3UL));
        Assert.That(ran, Is.Empty);
    }

    [Test]
    public void The_default_history_is_numbered_from_one()
    {
        using var store = KvStore.Open(_dir.Path);

        Assert.That(StoreSchema.Migrations.Select(m => m.Version), Is.EqualTo(Enumerable.Range(1, StoreSchema.Migrations.Count)));
        Assert.That(StoredVersion(store), Is.EqualTo((ulong)StoreSchema.Migrations[^1].Version));
    }

    [Test]
    public void An_older_store_runs_the_missing_steps_in_order_once()
    {
        using (KvStore.Open(_dir.Path, History(1)))
        {
        }
        var ran = new List<int>();
        using (var store = KvStore.Open(_dir.Path, History(4, ran.Add)))
        {
            Assert.That(StoredVersion(store), Is.EqualTo(4UL));
            Assert.That(store.Tree("migration_log").Get([0]), Is.EqualTo(new byte[] { 2, 3, 4 }), "each step saw the previous one's writes");
        }
        Assert.That(ran, Is.EqualTo(Enumerable.Range(2, 3)));

        using (KvStore.Open(_dir.Path, History(4, ran.Add)))
            Assert.That(ran, Has.Count.EqualTo(3), "a second open runs nothing");
    }

    [Test]
    public void A_store_without_a_version_runs_every_step()
    {
        using (var store = KvStore.Open(_dir.Path, History(1)))
            store.Tree(Trees.Global).Remove(VersionKey);

        using (var store = KvStore.Open(_dir.Path, History(2)))
        {
            Assert.That(StoredVersion(store), Is.EqualTo(2UL));
            Assert.That(store.Tree("migration_log").Get([0]), Is.EqualTo(new byte[] { 1, 2 }));
        }
    }

    [Test]
    public void A_failing_step_keeps_the_version_of_the_last_step_that_finished()
    {
        using (KvStore.Open(_dir.Path, History(1)))
        {
        }
        var failing = History(3, v =>
        {
            if (v == 3)
                throw new InvalidOperationException("step 3 broke");
        });

        Assert.That(() => KvStore.Open(_dir.Path, failing), Throws.InvalidOperationException.With.Message.EqualTo("step 3 broke"));
        using var store = KvStore.Open(_dir.Path, History(3));
        Assert.That(StoredVersion(store), Is.EqualTo(3UL));
        Assert.That(store.Tree("migration_log").Get([0]), Is.EqualTo(new byte[] { 2, 3 }), "step 2 committed once, step 3 ran again");
    }

    [Test]
    public void A_store_newer_than_this_build_is_refused_and_left_alone()
    {
        using (KvStore.Open(_dir.Path, History(3)))
        {
        }

        var error = Assert.Throws<StoreSchemaException>(() => KvStore.Open(_dir.Path, History(2)))!;
        Assert.That(error.Message, Does.Contain("schema version 3").And.Contain("up to 2").And.Contain("newer release"));
        using var store = KvStore.Open(_dir.Path, History(3));
        Assert.That(StoredVersion(store), Is.EqualTo(3UL));
    }

    [Test]
    public void Steps_must_be_numbered_one_two_three()
    {
        static void Nothing(KvStore store, WriteBatch batch)
        {
        }

        Assert.Throws<ArgumentException>(() => KvStore.Open(_dir.Path, new KvStoreOptions { Migrations = [new(1, "a", Nothing), new(3, "b", Nothing)] }));
        Assert.Throws<ArgumentException>(() => KvStore.Open(_dir.Path, new KvStoreOptions { Migrations = [] }));
        Assert.That(Directory.Exists(_dir.Path), Is.False, "nothing is created for a bad history");
    }
}
