namespace Conduit.Net.Config;

/// <summary><c>config.toml.example</c>, embedded so that the single binary can write it out (<c>config init</c>).</summary>
internal static class ExampleConfig
{
    public const string ResourceName = "config.toml.example";

    public static string Text
    {
        get
        {
            using var stream = typeof(ExampleConfig).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"The {ResourceName} resource is missing from the build.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }
}
