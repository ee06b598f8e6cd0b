using System.Text;
using Conduit.Net.Core.Json;

namespace Conduit.Net.Tests.Core;

/// <summary>The appendix's unpadded base64, its examples, and decoding that tolerates padding but nothing else.</summary>
public sealed class UnpaddedBase64Tests
{
    [TestCase("", "")]
    [TestCase("f", "Zg")]
    [TestCase("fo", "Zm8")]
    [TestCase("foo", "Zm9v")]
    [TestCase("foob", "Zm9vYg")]
    [TestCase("fooba", "Zm9vYmE")]
    [TestCase("foobar", "Zm9vYmFy")]
    public void Appendix_example_encodes_and_decodes(string plain, string encoded)
    {
        var bytes = Encoding.ASCII.GetBytes(plain);
        Assert.That(UnpaddedBase64.Encode(bytes), Is.EqualTo(encoded));
        Assert.That(UnpaddedBase64.Decode(encoded), Is.EqualTo(bytes));
        Assert.That(UnpaddedBase64.EncodeUrlSafe(bytes), Is.EqualTo(encoded));
        Assert.That(UnpaddedBase64.DecodeUrlSafe(encoded), Is.EqualTo(bytes));
    }

    [TestCase("Zg==", "f")]
    [TestCase("Zm8=", "fo")]
    [TestCase("Zm9v", "foo")]
    public void Padded_input_is_accepted(string encoded, string plain) =>
        Assert.That(UnpaddedBase64.Decode(encoded), Is.EqualTo(Encoding.ASCII.GetBytes(plain)));

    [TestCase("Z")]
    [TestCase("Zg=")]
    [TestCase("Zg===")]
    [TestCase("Z=g")]
    [TestCase("Zm9v Yg")]
    [TestCase("Zm9v\nYg")]
    [TestCase("Zm9v*g")]
    [TestCase("-_8")]
    public void Malformed_standard_base64_is_rejected(string encoded)
    {
        Assert.That(UnpaddedBase64.TryDecode(encoded, out _), Is.False);
        Assert.Throws<FormatException>(() => UnpaddedBase64.Decode(encoded));
    }

    [Test]
    public void The_URL_safe_alphabet_uses_dash_and_underscore()
    {
        byte[] bytes = [0xFB, 0xFF];
        Assert.That(UnpaddedBase64.Encode(bytes), Is.EqualTo("+/8"));
        Assert.That(UnpaddedBase64.EncodeUrlSafe(bytes), Is.EqualTo("-_8"));
        Assert.That(UnpaddedBase64.DecodeUrlSafe("-_8"), Is.EqualTo(bytes));
        Assert.That(UnpaddedBase64.TryDecodeUrlSafe("+/8", out _), Is.False);
    }

    [Test]
    public void The_spec_signing_seed_decodes_to_32_bytes_despite_nonzero_trailing_bits() =>
        Assert.That(UnpaddedBase64.Decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"), Has.Length.EqualTo(32));
}
