using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Tests.Core;

/// <summary>The appendix's canonical JSON: every example it gives, then the grammar's edges.</summary>
public sealed class CanonicalJsonTests
{
    /// <summary>Every "Given the following JSON object ... the following canonical JSON should be produced" pair of the appendix.</summary>
    private static readonly object[] AppendixExamples =
    [
        new object[] { "{}", "{}" },
        new object[] { """{ "one": 1, "two": "Two" }""", """{"one":1,"two":"Two"}""" },
        new object[] { """{ "b": "2", "a": "1" }""", """{"a":"1","b":"2"}""" },
        new object[] { """{"b":"2","a":"1"}""", """{"a":"1","b":"2"}""" },
        new object[]
        {
            """
            {
                "auth": {
                    "success": true,
                    "mxid": "@john.doe:example.com",
                    "profile": {
                        "display_name": "John Doe",
                        "three_pids": [
                            { "medium": "email", "address": "john.doe@example.org" },
                            { "medium": "msisdn", "address": "123456789" }
                        ]
                    }
                }
            }
            """,
            """{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}""",
        },
        new object[] { """{ "a": "日本語" }""", """{"a":"日本語"}""" },
        new object[] { """{ "本": 2, "日": 1 }""", """{"日":1,"本":2}""" },
        new object[] { """{ "a": "\u65E5" }""", """{"a":"日"}""" },
        new object[] { """{ "a": null }""", """{"a":null}""" },
        new object[] { """{ "a": -0, "b": 1e10 }""", """{"a":0,"b":10000000000}""" },
    ];

    /// <summary>The grammar's string escapes: only quote, backslash and control characters, short forms where they exist, lower-case hex.</summary>
    private static readonly object[] Escapes =
    [
        new object[] { "\"quote\"", "\"\\\"quote\\\"\"" },
        new object[] { "back\\slash", "\"back\\\\slash\"" },
        new object[] { "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
        new object[] { "\u0000\u0001\u000b\u000e\u001f", "\"\\u0000\\u0001\\u000b\\u000e\\u001f\"" },
        new object[] { "/ and \u007f and \u2028 and <>&'", "\"/ and \u007f and \u2028 and <>&'\"" },
        new object[] { "emoji 😀", "\"emoji 😀\"" },
    ];

    private static string Canonical(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [TestCaseSource(nameof(AppendixExamples))]
    public void Appendix_example_encodes_canonically_from_bytes(string input, string expected) =>
        Assert.That(Canonical(CanonicalJson.Encode(Encoding.UTF8.GetBytes(input))), Is.EqualTo(expected));

    [TestCaseSource(nameof(AppendixExamples))]
    public void Appendix_example_encodes_canonically_from_a_JsonElement(string input, string expected)
    {
        using var document = JsonDocument.Parse(input);
        Assert.That(Canonical(CanonicalJson.Encode(document.RootElement)), Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(AppendixExamples))]
    public void Appendix_example_encodes_canonically_from_a_JsonNode(string input, string expected) =>
        Assert.That(Canonical(CanonicalJson.Encode(JsonNode.Parse(input))), Is.EqualTo(expected));

    [Test]
    public void Output_is_UTF8_bytes_not_escapes()
    {
        var bytes = CanonicalJson.Encode(JsonNode.Parse("""{"a":"\u65E5"}"""));
        Assert.That(bytes, Is.EqualTo(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xE6, 0x97, 0xA5, 0x22, 0x7D }));
    }

    [TestCaseSource(nameof(Escapes))]
    public void Strings_use_only_the_escapes_the_grammar_allows(string value, string expected)
    {
        Assert.That(Canonical(CanonicalJson.Encode(JsonValue.Create(value))), Is.EqualTo(expected));
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(value, TestJson.Default.String));
        Assert.That(Canonical(CanonicalJson.Encode(document.RootElement)), Is.EqualTo(expected));
    }

    [Test]
    public void Keys_sort_by_code_point_not_by_UTF16_code_unit()
    {
        // U+E000 is below U+1F600 as a code point, though its UTF-16 unit is above the surrogate 0xD83D.
        var obj = new JsonObject { ["😀"] = 1, ["\uE000"] = 2, ["Z"] = 3, ["a"] = 4, [""] = 5 };
        Assert.That(Canonical(CanonicalJson.Encode(obj)), Is.EqualTo("{\"\":5,\"Z\":3,\"a\":4,\"\uE000\":2,\"😀\":1}"));
    }

    [Test]
    public void Nested_arrays_keep_their_order_and_objects_inside_them_are_sorted() =>
        Assert.That(
            Canonical(CanonicalJson.Encode(Encoding.UTF8.GetBytes("""[ 3, [ {"b": false, "a": true} ], "x", [] , {} ]"""))),
            Is.EqualTo("""[3,[{"a":true,"b":false}],"x",[],{}]"""));

    [TestCase("9007199254740991", "9007199254740991")]
    [TestCase("-9007199254740991", "-9007199254740991")]
    [TestCase("0", "0")]
    [TestCase("-0", "0")]
    [TestCase("2.0", "2")]
    [TestCase("-0.0", "0")]
    [TestCase("1E2", "100")]
    [TestCase("12.5e1", "125")]
    [TestCase("1000e-3", "1")]
    [TestCase("0.0000e999999999999", "0")]
    [TestCase("900719925474099.1e1", "9007199254740991")]
    public void Integer_values_are_written_without_fraction_or_exponent(string number, string expected)
    {
        Assert.That(Canonical(CanonicalJson.Encode(Encoding.UTF8.GetBytes(number))), Is.EqualTo(expected));
        Assert.That(Canonical(CanonicalJson.Encode(JsonNode.Parse(number))), Is.EqualTo(expected));
    }

    [TestCase("1.5", "is not an integer")]
    [TestCase("0.1", "is not an integer")]
    [TestCase("1500e-3", "is not an integer")]
    [TestCase("1e-400", "is not an integer")]
    [TestCase("9007199254740992", "outside")]
    [TestCase("-9007199254740992", "outside")]
    [TestCase("9223372036854775808", "outside")]
    [TestCase("1e16", "outside")]
    [TestCase("1e400", "outside")]
    [TestCase("9007199254740991.5", "is not an integer")]
    public void Floats_and_out_of_range_integers_are_rejected(string number, string reason)
    {
        var fromBytes = Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(Encoding.UTF8.GetBytes(number)));
        Assert.That(fromBytes!.Message, Does.Contain(reason).And.Contain(number));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(JsonNode.Parse(number)));
    }

    [TestCase("9007199254740992", "9007199254740992")]
    [TestCase("-9223372036854775808", "-9223372036854775808")]
    [TestCase("123456789012345678901234567890", "123456789012345678901234567890")]
    [TestCase("-0", "0")]
    [TestCase("2.0", "2")]
    public void Without_a_range_integers_of_any_size_are_written_as_their_digits(string number, string expected)
    {
        Assert.That(Canonical(CanonicalJson.Encode(JsonNode.Parse(number), NumberRange.Unbounded)), Is.EqualTo(expected));
        var obj = new JsonObject { ["n"] = JsonNode.Parse(number) };
        Assert.That(Canonical(CanonicalJson.EncodeExcluding(obj, NumberRange.Unbounded, "x")), Is.EqualTo($"{{\"n\":{expected}}}"));
    }

    [TestCase("1.5")]
    [TestCase("1e400")]
    public void Without_a_range_floats_are_still_rejected(string number) =>
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(JsonNode.Parse(number), NumberRange.Unbounded));

    [Test]
    public void Without_a_range_integers_built_in_code_are_written_too()
    {
        var obj = new JsonObject { ["l"] = long.MaxValue, ["u"] = ulong.MaxValue };
        Assert.That(Canonical(CanonicalJson.Encode(obj, NumberRange.Unbounded)), Is.EqualTo("""{"l":9223372036854775807,"u":18446744073709551615}"""));
    }

    [Test]
    public void Numbers_built_in_code_are_checked_like_parsed_ones()
    {
        var obj = new JsonObject { ["i"] = 7, ["l"] = CanonicalJson.MaxInteger, ["d"] = 3.0, ["b"] = (byte)4, ["u"] = 5UL, ["m"] = 6.00m };
        Assert.That(Canonical(CanonicalJson.Encode(obj)), Is.EqualTo("""{"b":4,"d":3,"i":7,"l":9007199254740991,"m":6,"u":5}"""));

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["x"] = 2.5 }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["x"] = double.NaN }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["x"] = double.PositiveInfinity }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["x"] = CanonicalJson.MaxInteger + 1 }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["x"] = ulong.MaxValue }));
    }

    [Test]
    public void Other_values_built_in_code_encode_as_their_JSON()
    {
        var obj = new JsonObject { ["c"] = 'x', ["t"] = true, ["f"] = false, ["n"] = null, ["s"] = "s" };
        Assert.That(Canonical(CanonicalJson.Encode(obj)), Is.EqualTo("""{"c":"x","f":false,"n":null,"s":"s","t":true}"""));
    }

    [Test]
    public void The_error_names_the_path_of_the_offending_value()
    {
        var error = Assert.Throws<CanonicalJsonException>(() =>
            CanonicalJson.Encode(JsonNode.Parse("""{"content": {"list": [1, 2.5]}}""")));
        Assert.That(error!.Message, Does.Contain("$.content.list[1]"));
    }

    [Test]
    public void Duplicate_keys_are_rejected()
    {
        var error = Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(Encoding.UTF8.GetBytes("""{"a": 1, "b": 2, "a": 3}""")));
        Assert.That(error!.Message, Does.Contain("\"a\" appears twice"));
    }

    [Test]
    public void Unpaired_surrogates_are_rejected()
    {
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(Encoding.UTF8.GetBytes("""{"a": "\ud800"}""")));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["a"] = "x\udc00" }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["\ud800"] = 1 }));
    }

    [Test]
    public void Text_that_is_not_JSON_is_a_JsonException() =>
        Assert.That(() => CanonicalJson.Encode(Encoding.UTF8.GetBytes("{\"a\":")), Throws.InstanceOf<JsonException>());

    [Test]
    public void Excluded_top_level_keys_are_left_out_but_nested_ones_stay()
    {
        var obj = JsonNode.Parse("""{"b": {"unsigned": 1}, "signatures": {}, "unsigned": {"age": 5}, "a": 1}""")!.AsObject();
        Assert.That(Canonical(CanonicalJson.EncodeExcluding(obj, "signatures", "unsigned")), Is.EqualTo("""{"a":1,"b":{"unsigned":1}}"""));
        Assert.That(obj.Count, Is.EqualTo(4), "the object itself is not modified");
    }
}
