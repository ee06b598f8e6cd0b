using System.Text.Json.Nodes;
using Conduit.Net.Core.Push;

namespace Conduit.Net.Tests.Core.Push;

/// <summary>The appendix's "Dot-separated property paths".</summary>
public sealed class PropertyPathTests
{
    [TestCase("content.body", new[] { "content", "body" })]
    [TestCase("type", new[] { "type" })]
    [TestCase(@"content.m\.relates_to", new[] { "content", "m.relates_to" })]
    [TestCase(@"content.m\.mentions.user_ids", new[] { "content", "m.mentions", "user_ids" })]
    [TestCase(@"content.m\\foo", new[] { "content", @"m\foo" })]
    [TestCase(@"content.m\x", new[] { "content", @"m\x" })]
    [TestCase(@"a\\.b", new[] { @"a\", "b" })]
    [TestCase(@"a\\\.b", new[] { @"a\.b" })]
    [TestCase(@"a\", new[] { @"a\" })]
    [TestCase("a..b", new[] { "a", "", "b" })]
    [TestCase("", new[] { "" })]
    public void Dots_separate_names_and_backslash_escapes_dots_and_backslashes(string path, string[] names) =>
        Assert.That(PropertyPath.Split(path), Is.EqualTo(names));

    [Test]
    public void Resolving_distinguishes_an_absent_property_from_a_null_one()
    {
        var root = JsonNode.Parse("""{"content": {"present": null, "nested": {"x": 1}, "list": [{"x": 1}]}}""")!.AsObject();

        Assert.Multiple(() =>
        {
            Assert.That(PropertyPath.TryResolve(root, "content.present", out var present), Is.True);
            Assert.That(present, Is.Null);
            Assert.That(PropertyPath.TryResolve(root, "content.absent", out _), Is.False);
            Assert.That(PropertyPath.TryResolve(root, "content.nested.x", out var x), Is.True);
            Assert.That(x!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(PropertyPath.TryResolve(root, "content.nested.x.y", out _), Is.False);
            Assert.That(PropertyPath.TryResolve(root, "content.list.0.x", out _), Is.False);
        });
    }
}
