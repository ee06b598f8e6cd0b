namespace Conduit.Net.Storage;

/// <summary>
/// Holds the data directory for one process: a lock file opened with <see cref="FileShare.None"/>,
/// which .NET turns into an OS lock (flock on Unix, a sharing lock on Windows). The OS drops the lock
/// when the process dies, however it dies, so a crash never leaves the directory locked.
/// </summary>
/// <remarks>
/// Setting <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> turns .NET's Unix file locks off and with them
/// this protection.
/// </remarks>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "conduit.lock";

    // The lock conflict as .NET reports it: EWOULDBLOCK on Linux (11) and macOS (35), and
    // ERROR_SHARING_VIOLATION / ERROR_LOCK_VIOLATION on Windows.
    private static readonly int[] LockConflicts = [11, 35, unchecked((int)0x80070020), unchecked((int)0x80070021)];

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file)
    {
        _file = file;
    }

    public static DataDirectoryLock Acquire(string directory)
    {
        var path = Path.Combine(directory, FileName);
        try
        {
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1));
        }
        catch (IOException e) when (LockConflicts.Contains(e.HResult))
        {
            throw new DataDirectoryInUseException(directory, e);
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// The data directory is locked by another open store: a running server, or another command on the
/// same directory. Offline commands must wait until the server is stopped.
/// </summary>
public sealed class DataDirectoryInUseException : IOException
{
    public DataDirectoryInUseException(string directory, Exception innerException)
        : base($"The data directory {Path.GetFullPath(directory)} is in use by a running server (or another command holding {DataDirectoryLock.FileName}); stop it first.", innerException)
    {
        Directory = directory;
    }

    /// <summary>The directory as it was given to <see cref="KvStore.Open"/>.</summary>
    public string Directory { get; }
}
