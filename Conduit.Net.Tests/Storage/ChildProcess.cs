using System.Diagnostics;
using System.Text;

namespace Conduit.Net.Tests.Storage;

/// <summary>
/// This test assembly run as a second process in one of <see cref="Program"/>'s roles, with its
/// standard output collected line by line (only complete lines: a process killed mid-write leaves
/// no half line behind).
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _pending = new();
    private readonly List<string> _lines = [];
    private readonly Task _reader;
    private readonly Task<string> _errors;

    private ChildProcess(Process process)
    {
        _process = process;
        _reader = ReadLinesAsync();
        _errors = process.StandardError.ReadToEndAsync();
    }

    public static ChildProcess Start(string role, string directory)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        start.ArgumentList.Add(role);
        start.ArgumentList.Add(directory);
        return new ChildProcess(Process.Start(start)!);
    }

    /// <summary>The complete lines written so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until <paramref name="enough"/> holds for the lines so far, or the process ends, or time runs out.</summary>
    public async Task WaitForLinesAsync(Func<IReadOnlyList<string>, bool> enough, TimeSpan limit)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!enough(Lines) && !_process.HasExited && stopwatch.Elapsed < limit)
            await Task.Delay(20);
    }

    /// <summary>SIGKILL on Unix: no handler, no flush, no finally block runs in the child.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        await _reader;
    }

    /// <summary>Closes the child's standard input (its cue to finish) and waits for it to exit.</summary>
    public async Task<int> CloseInputAndWaitAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync();
        await _reader;
        return _process.ExitCode;
    }

    public Task<string> StandardError => _errors;

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.Dispose();
    }

    private async Task ReadLinesAsync()
    {
        var buffer = new char[4096];
        var output = _process.StandardOutput;
        int read;
        while ((read = await output.ReadAsync(buffer)) > 0)
        {
            _pending.Append(buffer, 0, read);
            var text = _pending.ToString();
            var end = text.LastIndexOf('\n');
            if (end < 0)
                continue;
            lock (_lines)
                _lines.AddRange(text[..end].Split('\n').Select(l => l.TrimEnd('\r')));
            _pending.Remove(0, end + 1);
        }
    }
}
