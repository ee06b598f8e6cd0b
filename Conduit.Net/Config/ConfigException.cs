namespace Conduit.Net.Config;

/// <summary>
/// A config that cannot run. The message is the one line the CLI prints before exiting: it names
/// where the problem is (file and line, environment variable, or key) and what would be valid.
/// </summary>
internal sealed class ConfigException(string message) : Exception(message);
