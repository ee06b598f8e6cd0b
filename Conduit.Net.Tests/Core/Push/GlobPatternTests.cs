using Conduit.Net.Core.Push;

namespace Conduit.Net.Tests.Core.Push;

/// <summary>The appendix's "Glob-style matching" and the push rules' word-boundary matching on <c>content.body</c>.</summary>
public sealed class GlobPatternTests
{
    [TestCase("*", "", true)]
    [TestCase("*", "anything at all", true)]
    [TestCase("", "", true)]
    [TestCase("", "a", false)]
    [TestCase("?", "", false)]
    [TestCase("?", "a", true)]
    [TestCase("?", "ab", false)]
    [TestCase("a?c", "abc", true)]
    [TestCase("a?c", "ac", false)]
    [TestCase("a*c", "ac", true)]
    [TestCase("a*c", "abbbc", true)]
    [TestCase("a*c", "abbbcd", false)]
    [TestCase("a**c", "abc", true)]
    [TestCase("*a*b*", "xxaxxbxx", true)]
    [TestCase("*a*b*", "xxbxxaxx", false)]
    [TestCase("m.room.*", "m.room.message", true)]
    [TestCase("m.room.*", "m.roomy", false)]
    [TestCase("lunc?*", "Lunch plans", true)]
    [TestCase("lunc?*", "lunc", false)]
    public void Star_matches_any_run_and_question_mark_exactly_one_character(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsMatch(value), Is.EqualTo(matches));

    [TestCase("M.ROOM.MESSAGE", "m.room.message", true)]
    [TestCase("m.room.message", "M.Room.Message", true)]
    [TestCase("ÄRGER", "ärger", true)]
    [TestCase("Σοφία", "ΣΟΦΊΑ", true)]
    [TestCase("a", "b", false)]
    public void Matching_is_case_insensitive(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsMatch(value), Is.EqualTo(matches));

    [TestCase("[ab]", "a", false)]
    [TestCase("[ab]", "[ab]", true)]
    [TestCase("a\\*", "a\\xyz", true)]
    [TestCase("a\\*", "a*", false)]
    [TestCase("a.c", "abc", false)]
    [TestCase("a+", "aa", false)]
    [TestCase("^a$", "^a$", true)]
    public void Only_star_and_question_mark_are_special(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsMatch(value), Is.EqualTo(matches));

    [TestCase("?", "😀", true)]
    [TestCase("??", "😀", false)]
    [TestCase("a?b", "a😀b", true)]
    [TestCase("😀*", "😀 party", true)]
    public void A_character_is_a_code_point(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsMatch(value), Is.EqualTo(matches));

    [TestCase("alice", "alice", true)]
    [TestCase("alice", "hi alice!", true)]
    [TestCase("alice", "alice: hi", true)]
    [TestCase("alice", "hi-alice-hi", true)]
    [TestCase("alice", "malice", false)]
    [TestCase("alice", "alices", false)]
    [TestCase("alice", "_alice", false)]
    [TestCase("alice", "alice9", false)]
    [TestCase("@room", "@room", true)]
    [TestCase("@room", "hey @room!", true)]
    [TestCase("@room", "hey@room", true)]
    [TestCase("@room", "@roomy", false)]
    [TestCase("ex*ple", "An example event.", true)]
    [TestCase("ex*ple", "exple", true)]
    [TestCase("ex*ple", "An exciting triple-whammy", true)]
    [TestCase("ex*ple", "examples", false)]
    [TestCase("a?c", "x abc y", true)]
    [TestCase("a?c", "x abcd y", false)]
    [TestCase("b c", "a b c d", true)]
    public void Word_matching_finds_substrings_that_start_and_end_at_word_boundaries(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsWordMatch(value), Is.EqualTo(matches));

    [TestCase("caf", "café", true)]
    [TestCase("na", "naïve", true)]
    [TestCase("café", "un café noir", true)]
    public void Only_ASCII_letters_digits_and_underscore_are_word_characters(string pattern, string value, bool matches) =>
        Assert.That(GlobPattern.Get(pattern).IsWordMatch(value), Is.EqualTo(matches));

    [Test]
    public void A_literal_pattern_treats_wildcards_as_text()
    {
        Assert.That(GlobPattern.Literal("a*b?").IsWordMatch("say a*b? now"), Is.True);
        Assert.That(GlobPattern.Literal("a*b?").IsWordMatch("say axxbz now"), Is.False);
    }

    [Test]
    public void A_pattern_with_many_stars_does_not_backtrack_its_way_into_a_false_match()
    {
        var text = new string('a', 20_000);

        Assert.That(GlobPattern.Get("*a*a*a*a*a*a*a*a*a*a*b").IsMatch(text), Is.False);
        Assert.That(GlobPattern.Get("a*a*a*a*a*a*a*a*a*a*b").IsWordMatch(text), Is.False);
        Assert.That(GlobPattern.Get("*a*a*a*a*a*a*a*a*a*a*").IsMatch(text), Is.True);
    }

    [Test]
    public void Compiled_patterns_are_reused()
    {
        const string pattern = "reuse*me";
        var first = GlobPattern.Get(pattern);
        var second = GlobPattern.Get(new string(pattern.AsSpan()));

        Assert.That(second, Is.SameAs(first));
    }
}
