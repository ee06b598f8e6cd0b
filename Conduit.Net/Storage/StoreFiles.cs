using Microsoft.Win32.SafeHandles;

namespace Conduit.Net.Storage;

/// <summary>
/// One of LiteDB's two files on a handle the store owns, so that the store decides when bytes reach
/// the disk. LiteDB 5.0.21 writes a transaction's log pages synchronously inside <c>Commit</c> but
/// never asks for them to be synced; the store syncs the log itself (<see cref="GroupFlush"/>).
/// LiteDB wraps each stream in its own locking wrapper, so calls arrive one at a time, except
/// <see cref="FlushToDisk"/>, which the store calls from any thread (an fsync needs no position).
/// </summary>
internal abstract class StoreFile : Stream
{
    private readonly SafeFileHandle _handle;
    private long _position;
    private long _length;

    protected StoreFile(string path)
    {
        // FileShare.None takes an OS lock (flock on Unix) on top of the data directory's lock file.
        _handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        _length = RandomAccess.GetLength(_handle);
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <summary>fsync: every byte written so far survives a power loss once this returns.</summary>
    public void FlushToDisk() => RandomAccess.FlushToDisk(_handle);

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = RandomAccess.Read(_handle, buffer.AsSpan(offset, count), _position);
        _position += read;
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        RandomAccess.Write(_handle, buffer.AsSpan(offset, count), _position);
        _position += count;
        _length = Math.Max(_length, _position);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void SetLength(long value)
    {
        RandomAccess.SetLength(_handle, value);
        _length = value;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _handle.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// The write-ahead log. Commits append here; <see cref="StoreFile.FlushToDisk"/> is the group
/// commit's fsync. A checkpoint truncates it after the data file holds every page.
/// </summary>
internal sealed class LogFile(string path) : StoreFile(path)
{
    /// <summary>
    /// Nothing: LiteDB's writes go straight to the OS (there is no buffer to push), and the sync
    /// belongs to the group commit, outside LiteDB's locks.
    /// </summary>
    public override void Flush()
    {
    }

    /// <summary>
    /// A checkpoint truncates the log once the data file is synced. The truncation is synced at once:
    /// otherwise new log pages written from offset 0 could sit on disk in front of older, already
    /// checkpointed pages, and a power loss would replay those stale pages over newer data.
    /// </summary>
    public override void SetLength(long value)
    {
        base.SetLength(value);
        FlushToDisk();
    }
}

/// <summary>
/// The data file, written only by checkpoints (log pages copied home) and at creation. The log is
/// synced before the first data page of a checkpoint is overwritten, so a power loss in the middle of
/// a checkpoint always finds every page it was copying still in the log; LiteDB's flush at the end
/// of a checkpoint is a real fsync, before the log is truncated.
/// </summary>
internal sealed class DataFile(string path, LogFile log) : StoreFile(path)
{
    private bool _unsynced;

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (!_unsynced)
        {
            log.FlushToDisk();
            _unsynced = true;
        }
        base.Write(buffer, offset, count);
    }

    public override void SetLength(long value)
    {
        base.SetLength(value);
        _unsynced = true;
    }

    public override void Flush()
    {
        if (!_unsynced)
            return;
        FlushToDisk();
        _unsynced = false;
    }
}
