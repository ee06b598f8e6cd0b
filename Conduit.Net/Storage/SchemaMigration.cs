namespace Conduit.Net.Storage;

/// <summary>
/// One numbered step of the store's layout history. <see cref="KvStore.Open"/> runs the steps a data
/// directory has not seen yet, in order, each committed in one batch together with the new version,
/// so a crash mid-way resumes at the step that did not finish.
/// </summary>
/// <param name="Version">The schema version this step produces; steps are numbered 1, 2, 3, ...</param>
/// <param name="Description">What the step changes, for whoever reads the list.</param>
/// <param name="Apply">Reads what it needs from the store and adds its writes to the batch.</param>
public sealed record SchemaMigration(int Version, string Description, Action<KvStore, WriteBatch> Apply);

/// <summary>
/// The schema history of a fresh install. The current version is the last step's. Services that
/// change how they lay out their trees append a step here (or pass their own list through
/// <see cref="KvStoreOptions.Migrations"/>) and describe the new layout in <see cref="Trees"/>.
/// </summary>
public static class StoreSchema
{
    public static IReadOnlyList<SchemaMigration> Migrations { get; } =
    [
        new(1, "The first layout: the trees as Trees.cs lists them.", static (_, _) => { }),
    ];
}

/// <summary>
/// The data directory was written by a newer release whose layout this build does not know, or its
/// recorded version is unreadable. Opening it could corrupt it, so the store refuses.
/// </summary>
public sealed class StoreSchemaException(string message) : Exception(message);
