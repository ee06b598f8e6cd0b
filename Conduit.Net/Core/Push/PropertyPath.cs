using System.Text;
using System.Text.Json.Nodes;

namespace Conduit.Net.Core.Push;

/// <summary>
/// The appendix's dot-separated property paths: <c>content.body</c> is <c>body</c> inside
/// <c>content</c>. A literal dot or backslash in a property name is escaped with a backslash
/// (<c>content.m\.relates_to</c>, <c>content.m\\foo</c>); any other backslash stays as it is,
/// so <c>\x</c> is a backslash followed by <c>x</c>.
/// </summary>
public static class PropertyPath
{
    private static readonly BoundedCache<string[]> Cache = new(4096, SplitUncached);

    /// <summary>The property names along the path, escapes resolved.</summary>
    public static IReadOnlyList<string> Split(string path) => Cache.Get(path);

    /// <summary>
    /// Walks the path through nested objects. True when every step exists; the value found may be
    /// a JSON <c>null</c> (a C# null here), which is different from an absent property.
    /// </summary>
    public static bool TryResolve(JsonObject root, string path, out JsonNode? value)
    {
        value = null;
        JsonNode? current = root;
        foreach (var name in Cache.Get(path))
        {
            if (current is not JsonObject obj || !obj.TryGetPropertyValue(name, out current))
                return false;
        }
        value = current;
        return true;
    }

    private static string[] SplitUncached(string path)
    {
        var names = new List<string>();
        var name = new StringBuilder();
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '\\' && i + 1 < path.Length && path[i + 1] is '.' or '\\')
            {
                name.Append(path[++i]);
            }
            else if (c == '.')
            {
                names.Add(name.ToString());
                name.Clear();
            }
            else
            {
                name.Append(c);
            }
        }
        names.Add(name.ToString());
        return [.. names];
    }
}
