using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Conduit.Net.Core.Json;

/// <summary>
/// The spec's canonical JSON (appendix "Canonical JSON"): UTF-8, no insignificant whitespace, object
/// keys sorted by Unicode code point, only the escapes the grammar allows, and numbers that are
/// integers in [-(2^53)+1, 2^53-1] written without exponent, fraction or negative zero. Signatures and
/// hashes are computed over these bytes, so every server must produce exactly the same ones.
/// </summary>
/// <remarks>
/// A number counts by its value, not its spelling: the appendix's own example turns <c>-0</c> into
/// <c>0</c> and <c>1e10</c> into <c>10000000000</c>, so <c>2.0</c> is the integer 2 while <c>2.5</c>
/// is rejected. Anything that cannot be written canonically throws <see cref="CanonicalJsonException"/>.
/// </remarks>
public static class CanonicalJson
{
    public const long MaxInteger = (1L << 53) - 1;
    public const long MinInteger = -MaxInteger;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 128 };

    public static byte[] Encode(JsonNode? node) => Encode(node, NumberRange.Safe);

    /// <summary>
    /// Encodes with the integer range given: <see cref="NumberRange.Unbounded"/> is for events of room
    /// versions 1 to 5, which predate the range and may hold larger integers.
    /// </summary>
    public static byte[] Encode(JsonNode? node, NumberRange range)
    {
        var writer = new Writer(range);
        writer.Write(node);
        return writer.ToArray();
    }

    public static byte[] Encode(JsonElement element)
    {
        var writer = new Writer(NumberRange.Safe);
        writer.Write(element);
        return writer.ToArray();
    }

    /// <summary>Parses UTF-8 JSON and re-encodes it canonically; text that is not JSON throws <see cref="JsonException"/>.</summary>
    public static byte[] Encode(ReadOnlyMemory<byte> utf8Json)
    {
        using var document = JsonDocument.Parse(utf8Json, ParseOptions);
        return Encode(document.RootElement);
    }

    /// <summary>
    /// The object without the named top-level keys, encoded canonically; what signing (without
    /// <c>signatures</c> and <c>unsigned</c>) and hashing need, without copying the object first.
    /// </summary>
    public static byte[] EncodeExcluding(JsonObject obj, params ReadOnlySpan<string> excludedKeys) =>
        EncodeExcluding(obj, NumberRange.Safe, excludedKeys);

    /// <summary><see cref="EncodeExcluding(JsonObject, ReadOnlySpan{string})"/> with the integer range given.</summary>
    public static byte[] EncodeExcluding(JsonObject obj, NumberRange range, params ReadOnlySpan<string> excludedKeys)
    {
        var writer = new Writer(range);
        writer.WriteObject(obj, excludedKeys);
        return writer.ToArray();
    }

    private sealed class Writer
    {
        private static readonly Action<Writer, JsonNode?> WriteNode = static (writer, node) => writer.Write(node);

        private static readonly Action<Writer, JsonElement> WriteElement = static (writer, element) => writer.Write(element);

        private readonly ArrayBufferWriter<byte> _out = new(256);

        private readonly bool _unbounded;

        // Segments of the path to the value being written (string keys, int indices), for error messages only.
        private readonly List<object> _path = [];

        public Writer(NumberRange range)
        {
            _unbounded = range == NumberRange.Unbounded;
        }

        public byte[] ToArray() => _out.WrittenSpan.ToArray();

        public void Write(JsonNode? node)
        {
            switch (node)
            {
                case null:
                    WriteRaw("null"u8);
                    break;
                case JsonObject obj:
                    WriteObject(obj, []);
                    break;
                case JsonArray array:
                    WriteArray(array, WriteNode);
                    break;
                case JsonValue value:
                    WriteValue(value);
                    break;
                default:
                    throw Fail($"unsupported JSON node {node.GetType().Name}");
            }
        }

        public void WriteObject(JsonObject obj, ReadOnlySpan<string> excludedKeys)
        {
            var members = new KeyValuePair<string, JsonNode?>[obj.Count];
            var count = 0;
            foreach (var member in obj)
            {
                if (!excludedKeys.Contains(member.Key))
                    members[count++] = member;
            }
            WriteMembers(members.AsSpan(0, count), WriteNode);
        }

        public void Write(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var members = new KeyValuePair<string, JsonElement>[element.GetPropertyCount()];
                    var count = 0;
                    foreach (var property in element.EnumerateObject())
                        members[count++] = new(property.Name, property.Value);
                    WriteMembers(members.AsSpan(), WriteElement);
                    break;
                case JsonValueKind.Array:
                    WriteArray(element.EnumerateArray(), WriteElement);
                    break;
                case JsonValueKind.String:
                    WriteString(ReadString(element));
                    break;
                case JsonValueKind.Number:
                    if (element.TryGetInt64(out var integer))
                        WriteInteger(CheckRange(integer, element.GetRawText()));
                    else
                        WriteNumberText(element.GetRawText());
                    break;
                default:
                    WriteLiteral(element.ValueKind);
                    break;
            }
        }

        /// <summary>The one object walk, for parsed nodes and document elements alike: members sorted by code point.</summary>
        private void WriteMembers<T>(Span<KeyValuePair<string, T>> members, Action<Writer, T> writeValue)
        {
            members.Sort(static (a, b) => CodePointComparer.Instance.Compare(a.Key, b.Key));
            WriteByte((byte)'{');
            for (var i = 0; i < members.Length; i++)
            {
                if (i > 0)
                {
                    WriteByte((byte)',');
                    if (members[i - 1].Key == members[i].Key)
                        throw Fail($"the key \"{members[i].Key}\" appears twice in one object");
                }
                WriteString(members[i].Key);
                WriteByte((byte)':');
                _path.Add(members[i].Key);
                writeValue(this, members[i].Value);
                _path.RemoveAt(_path.Count - 1);
            }
            WriteByte((byte)'}');
        }

        /// <summary>The one array walk, for parsed nodes and document elements alike.</summary>
        private void WriteArray<T>(IEnumerable<T> items, Action<Writer, T> writeItem)
        {
            WriteByte((byte)'[');
            var index = 0;
            foreach (var item in items)
            {
                if (index > 0)
                    WriteByte((byte)',');
                _path.Add(index++);
                writeItem(this, item);
                _path.RemoveAt(_path.Count - 1);
            }
            WriteByte((byte)']');
        }

        private void WriteValue(JsonValue value)
        {
            if (value.TryGetValue<JsonElement>(out var element))
            {
                Write(element);
                return;
            }
            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    WriteString(value.TryGetValue<string>(out var text) ? text : ReadString(Reparse(value)));
                    break;
                case JsonValueKind.Number:
                    if (value.TryGetValue<long>(out var longValue))
                        WriteInteger(CheckRange(longValue, longValue.ToString(CultureInfo.InvariantCulture)));
                    else if (value.TryGetValue<int>(out var intValue))
                        WriteInteger(intValue);
                    else
                        WriteNumberText(NumberText(value));
                    break;
                default:
                    WriteLiteral(value.GetValueKind());
                    break;
            }
        }

        private void WriteLiteral(JsonValueKind kind)
        {
            switch (kind)
            {
                case JsonValueKind.True:
                    WriteRaw("true"u8);
                    break;
                case JsonValueKind.False:
                    WriteRaw("false"u8);
                    break;
                case JsonValueKind.Null:
                    WriteRaw("null"u8);
                    break;
                default:
                    throw Fail($"unsupported JSON value kind {kind}");
            }
        }

        private string NumberText(JsonValue value)
        {
            try
            {
                return value.ToJsonString();
            }
            catch (ArgumentException)
            {
                throw Fail("a number that is not finite is not allowed");
            }
        }

        private static JsonElement Reparse(JsonValue value)
        {
            using var document = JsonDocument.Parse(value.ToJsonString());
            return document.RootElement.Clone();
        }

        private string ReadString(JsonElement element)
        {
            try
            {
                return element.GetString()!;
            }
            catch (InvalidOperationException)
            {
                throw Fail("a string that is not valid Unicode is not allowed");
            }
        }

        private long CheckRange(long value, string text) =>
            !_unbounded && value is < MinInteger or > MaxInteger
                ? throw Fail($"the integer {text} is outside [-(2^53)+1, 2^53-1]")
                : value;

        /// <summary>
        /// A number that is not a 64-bit integer. Without a range, an integer spelled as digits is written
        /// as those digits, as servers with arbitrary-precision integers (Synapse's Python) write it.
        /// </summary>
        private void WriteNumberText(string text)
        {
            var digits = text.AsSpan(text.StartsWith('-') ? 1 : 0);
            if (_unbounded && digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9') && (digits[0] != '0' || digits.Length == 1))
                WriteRaw(Encoding.UTF8.GetBytes(digits.SequenceEqual("0") ? "0" : text));
            else
                WriteInteger(ParseInteger(text));
        }

        /// <summary>
        /// The exact integer value of a JSON number spelled with a fraction or exponent, computed on the
        /// digits rather than through a double so that nothing rounds its way into range or integrality.
        /// </summary>
        private long ParseInteger(string text)
        {
            var span = text.AsSpan();
            var negative = span.StartsWith('-');
            if (negative)
                span = span[1..];

            var exponentAt = span.IndexOfAny('e', 'E');
            var significand = exponentAt < 0 ? span : span[..exponentAt];
            long exponent = 0;
            if (exponentAt >= 0)
            {
                var digits = span[(exponentAt + 1)..];
                var exponentNegative = digits.StartsWith('-');
                if (digits.StartsWith('-') || digits.StartsWith('+'))
                    digits = digits[1..];
                foreach (var digit in digits)
                {
                    // Beyond this bound the answer (out of range, or not an integer) no longer changes.
                    exponent = Math.Min(exponent * 10 + (digit - '0'), 1_000_000_000L);
                }
                if (exponentNegative)
                    exponent = -exponent;
            }

            var point = significand.IndexOf('.');
            var digitsOnly = point < 0 ? significand.ToString() : string.Concat(significand[..point], significand[(point + 1)..]);
            if (point >= 0)
                exponent -= significand.Length - point - 1;
            if (digitsOnly.Length == 0 || digitsOnly.AsSpan().ContainsAnyExceptInRange('0', '9'))
                throw Fail($"{text} is not a JSON number");

            var trimmed = digitsOnly.TrimStart('0');
            var significant = trimmed.TrimEnd('0');
            exponent += trimmed.Length - significant.Length;
            if (significant.Length == 0)
                return 0;
            if (exponent < 0)
                throw Fail($"the number {text} is not an integer");
            if (significant.Length + exponent > 16)
                throw Fail($"the integer {text} is outside [-(2^53)+1, 2^53-1]");
            var magnitude = long.Parse(significant, CultureInfo.InvariantCulture);
            for (var i = 0; i < exponent; i++)
                magnitude *= 10;
            if (magnitude > MaxInteger)
                throw Fail($"the integer {text} is outside [-(2^53)+1, 2^53-1]");
            return negative ? -magnitude : magnitude;
        }

        private void WriteInteger(long value)
        {
            var span = _out.GetSpan(20);
            value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
            _out.Advance(written);
        }

        private void WriteString(string value)
        {
            WriteByte((byte)'"');
            var text = value.AsSpan();
            var start = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c >= 0x20 && c != '"' && c != '\\')
                    continue;
                WriteUtf8(text[start..i]);
                WriteEscape(c);
                start = i + 1;
            }
            WriteUtf8(text[start..]);
            WriteByte((byte)'"');
        }

        private void WriteUtf8(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty)
                return;
            var destination = _out.GetSpan(text.Length * 3);
            var status = Utf8.FromUtf16(text, destination, out _, out var written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
                throw Fail("a string containing an unpaired surrogate is not valid Unicode");
            _out.Advance(written);
        }

        private void WriteEscape(char c)
        {
            switch (c)
            {
                case '"':
                    WriteRaw("\\\""u8);
                    break;
                case '\\':
                    WriteRaw("\\\\"u8);
                    break;
                case '\b':
                    WriteRaw("\\b"u8);
                    break;
                case '\f':
                    WriteRaw("\\f"u8);
                    break;
                case '\n':
                    WriteRaw("\\n"u8);
                    break;
                case '\r':
                    WriteRaw("\\r"u8);
                    break;
                case '\t':
                    WriteRaw("\\t"u8);
                    break;
                default:
                    // The grammar's u000X / u001X escapes, with lower-case hex digits.
                    WriteRaw("\\u00"u8);
                    WriteByte((byte)"0123456789abcdef"[c >> 4]);
                    WriteByte((byte)"0123456789abcdef"[c & 0xF]);
                    break;
            }
        }

        private void WriteByte(byte b)
        {
            _out.GetSpan(1)[0] = b;
            _out.Advance(1);
        }

        private void WriteRaw(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

        private CanonicalJsonException Fail(string problem)
        {
            var path = new StringBuilder("$");
            foreach (var segment in _path)
            {
                if (segment is int index)
                    path.Append('[').Append(index).Append(']');
                else
                    path.Append('.').Append(segment);
            }
            return new CanonicalJsonException($"Not canonical JSON at {path}: {problem}.");
        }
    }
}
