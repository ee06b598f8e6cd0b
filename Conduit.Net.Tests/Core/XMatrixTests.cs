using System.Text.Json.Nodes;
using Conduit.Net.Core.Crypto;

namespace Conduit.Net.Tests.Core;

/// <summary>
/// "Request Authentication": the X-Matrix header is RFC 7235 credentials (names in any case, values as
/// tokens or quoted strings with backslash escapes, colons allowed unquoted), and its signature covers
/// method, uri, origin, destination and content.
/// </summary>
public sealed class XMatrixTests
{
    [TestCase("X-Matrix origin=\"origin.example\",destination=\"dest.example\",key=\"ed25519:key1\",sig=\"ABC\"")]
    [TestCase("X-Matrix origin=origin.example,destination=dest.example,key=ed25519:key1,sig=ABC")]
    [TestCase("x-matrix ORIGIN=origin.example, Destination=\"dest.example\",  KEY=\"ed25519:key1\" , sig=ABC")]
    [TestCase("X-Matrix origin=\"origin.ex\\ample\",destination=\"dest.example\",key=\"ed25519:key1\",sig=\"ABC\",unknown=\"ignored\"")]
    public void Quoted_unquoted_and_escaped_values_parse_alike(string header)
    {
        var parsed = XMatrix.TryParse(header);

        Assert.That(parsed, Is.EqualTo(new XMatrixAuthorization("origin.example", "dest.example", "ed25519:key1", "ABC")));
    }

    [Test]
    public void Destination_is_optional_for_older_senders()
    {
        Assert.That(XMatrix.TryParse("X-Matrix origin=o.example,key=ed25519:k,sig=S")?.Destination, Is.Null);
    }

    [TestCase("Bearer token")]
    [TestCase("X-Matrix")]
    [TestCase("X-Matrixorigin=o,key=ed25519:k,sig=S")]
    [TestCase("X-Matrix key=ed25519:k,sig=S")]
    [TestCase("X-Matrix origin=o,sig=S")]
    [TestCase("X-Matrix origin=o,key=ed25519:k")]
    [TestCase("X-Matrix origin=\"o,key=ed25519:k,sig=S")]
    [TestCase("X-Matrix origin=o key=ed25519:k sig=S")]
    [TestCase("X-Matrix origin=o,origin=p,key=ed25519:k,sig=S")]
    [TestCase("X-Matrix =o,key=ed25519:k,sig=S")]
    public void Broken_or_incomplete_headers_do_not_parse(string header)
    {
        Assert.That(XMatrix.TryParse(header), Is.Null);
    }

    [Test]
    public void A_signed_header_verifies_and_any_changed_part_does_not()
    {
        using var key = SigningKey.Generate("k1");
        var content = new JsonObject { ["a"] = 1 };
        var header = XMatrix.TryParse(XMatrix.Sign(key, "PUT", "/_matrix/federation/v1/send/1", "o.example", "d.example", content))!;

        Assert.That(header.Origin, Is.EqualTo("o.example"));
        Assert.That(header.KeyId, Is.EqualTo("ed25519:k1"));
        Assert.Multiple(() =>
        {
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/1", "o.example", "d.example", content), Is.True);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "POST", "/_matrix/federation/v1/send/1", "o.example", "d.example", content), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/2", "o.example", "d.example", content), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/1", "x.example", "d.example", content), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/1", "o.example", "x.example", content), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/1", "o.example", "d.example", new JsonObject { ["a"] = 2 }), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, header.Signature, "PUT", "/_matrix/federation/v1/send/1", "o.example", "d.example", null), Is.False);
            Assert.That(XMatrix.Verify(key.VerifyKey, "not base64!", "PUT", "/_matrix/federation/v1/send/1", "o.example", "d.example", content), Is.False);
        });
    }

    [Test]
    public void The_signed_object_is_the_one_the_spec_describes()
    {
        using var key = SigningKey.Generate("k1");
        var header = XMatrix.TryParse(XMatrix.Sign(key, "GET", "/target", "origin.hs.example.com", "destination.hs.example.com", null))!;
        var signed = new JsonObject
        {
            ["method"] = "GET",
            ["uri"] = "/target",
            ["origin"] = "origin.hs.example.com",
            ["destination"] = "destination.hs.example.com",
            ["signatures"] = new JsonObject { ["origin.hs.example.com"] = new JsonObject { ["ed25519:k1"] = header.Signature } },
        };

        Assert.That(JsonSigning.Check(signed, "origin.hs.example.com", key.VerifyKey), Is.EqualTo(SignatureCheck.Valid));
    }
}
