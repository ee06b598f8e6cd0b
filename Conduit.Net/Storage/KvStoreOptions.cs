namespace Conduit.Net.Storage;

/// <summary>How <see cref="KvStore.Open"/> sets up the store.</summary>
public sealed record KvStoreOptions
{
    public StoreDurability Durability { get; init; } = StoreDurability.Safe;

    /// <summary>The schema history, versions 1..N in order; the data directory is brought to N.</summary>
    public IReadOnlyList<SchemaMigration> Migrations { get; init; } = StoreSchema.Migrations;
}

/// <summary>When a commit counts as done.</summary>
public enum StoreDurability
{
    /// <summary>
    /// A commit returns once its log pages are fsynced: it survives a process crash and a power loss.
    /// Concurrent commits share one fsync (group commit).
    /// </summary>
    Safe,

    /// <summary>
    /// A commit returns once its log pages are in the OS page cache: it survives a process crash, not
    /// a power loss. The OS writes the unsynced log back in any order, so after a power loss the log
    /// may hold later pages without earlier ones: recent commits can be lost and the database damaged.
    /// For test servers and throwaway data.
    /// </summary>
    Fast,
}
