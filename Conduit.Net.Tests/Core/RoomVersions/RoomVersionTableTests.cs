using Conduit.Net.Core.Errors;
using Conduit.Net.Core.RoomVersions;

namespace Conduit.Net.Tests.Core.RoomVersions;

/// <summary>The room version table against the spec's per-version sections.</summary>
public sealed class RoomVersionTableTests
{
    [Test]
    public void Versions_1_to_12_are_supported_and_stable_in_order()
    {
        Assert.That(RoomVersion.Supported.Select(v => v.Id), Is.EqualTo(Enumerable.Range(1, 12).Select(i => i.ToString())));
        Assert.That(RoomVersion.Supported.All(v => v.IsStable), Is.True);
    }

    [TestCase("1")]
    [TestCase("12")]
    public void A_known_version_is_found_by_its_id(string id)
    {
        Assert.That(RoomVersion.TryGet(id, out var version), Is.True);
        Assert.That(version!.Id, Is.EqualTo(id));
        Assert.That(RoomVersion.Get(id), Is.SameAs(version));
    }

    [TestCase("13")]
    [TestCase("")]
    [TestCase("01")]
    [TestCase("org.matrix.msc1234")]
    [TestCase(null)]
    public void An_unknown_version_is_not_found(string? id) =>
        Assert.That(RoomVersion.TryGet(id, out _), Is.False);

    [Test]
    public void Getting_an_unknown_version_is_400_M_UNSUPPORTED_ROOM_VERSION()
    {
        var error = Assert.Throws<MatrixException>(() => RoomVersion.Get("99"));
        Assert.That(error!.Code.Code, Is.EqualTo("M_UNSUPPORTED_ROOM_VERSION"));
        Assert.That(error.Code.Status, Is.EqualTo(400));
    }

    [TestCase("1", EventIdFormat.ServerScoped, EventReferenceFormat.IdAndHashPairs)]
    [TestCase("2", EventIdFormat.ServerScoped, EventReferenceFormat.IdAndHashPairs)]
    [TestCase("3", EventIdFormat.ReferenceHash, EventReferenceFormat.IdList)]
    [TestCase("4", EventIdFormat.UrlSafeReferenceHash, EventReferenceFormat.IdList)]
    [TestCase("11", EventIdFormat.UrlSafeReferenceHash, EventReferenceFormat.IdList)]
    [TestCase("12", EventIdFormat.UrlSafeReferenceHash, EventReferenceFormat.IdList)]
    public void Event_id_and_reference_formats_follow_the_event_format_sections(string id, EventIdFormat ids, EventReferenceFormat references)
    {
        var version = RoomVersion.Get(id);
        Assert.That(version.EventIdFormat, Is.EqualTo(ids));
        Assert.That(version.EventReferenceFormat, Is.EqualTo(references));
        Assert.That(version.EventIdInPdu, Is.EqualTo(ids == EventIdFormat.ServerScoped));
    }

    [TestCase("1", "v1")]
    [TestCase("5", "v1")]
    [TestCase("6", "v6")]
    [TestCase("7", "v6")]
    [TestCase("8", "v8")]
    [TestCase("9", "v9")]
    [TestCase("10", "v9")]
    [TestCase("11", "v11")]
    [TestCase("12", "v11")]
    public void Each_version_uses_the_redaction_algorithm_its_section_gives(string id, string redaction) =>
        Assert.That(RoomVersion.Get(id).Redaction.Name, Is.EqualTo(redaction));

    [TestCase("1", StateResolutionAlgorithm.V1)]
    [TestCase("2", StateResolutionAlgorithm.V2)]
    [TestCase("11", StateResolutionAlgorithm.V2)]
    [TestCase("12", StateResolutionAlgorithm.V2Dot1)]
    public void State_resolution_is_v1_for_version_1_v2_up_to_11_and_v2_1_for_12(string id, StateResolutionAlgorithm algorithm) =>
        Assert.That(RoomVersion.Get(id).StateResolution, Is.EqualTo(algorithm));

    [Test]
    public void Feature_flags_start_where_the_spec_introduces_them()
    {
        Assert.Multiple(() =>
        {
            AssertFrom(v => v.StrictCanonicalJson, 6);
            AssertFrom(v => v.EnforcesKeyValidity, 5);
            AssertFrom(v => v.NotificationsInPowerLevelRules, 6);
            AssertFrom(v => v.Knocking, 7);
            AssertFrom(v => v.RestrictedJoins, 8);
            AssertFrom(v => v.KnockRestrictedJoins, 10);
            AssertFrom(v => v.IntegerOnlyPowerLevels, 10);
            AssertFrom(v => v.RedactsInContent, 11);
            AssertFrom(v => v.CreatorIsSender, 11);
            AssertFrom(v => v.PrivilegedCreators, 12);
            AssertFrom(v => v.RoomIdFormat == RoomIdFormat.CreateEventHash, 12);
            AssertFrom(v => !v.RedactionsInAuthRules, 3);
            AssertFrom(v => !v.AliasesInAuthRules, 6);
            AssertFrom(v => !v.CreateEventInAuthEvents, 12);
        });
    }

    [Test]
    public void Depth_is_limited_to_2_pow_63_minus_1_before_version_6_and_2_pow_53_minus_1_after()
    {
        Assert.That(RoomVersion.V5.MaxDepth, Is.EqualTo(long.MaxValue));
        Assert.That(RoomVersion.V6.MaxDepth, Is.EqualTo((1L << 53) - 1));
        Assert.That(RoomVersion.V12.MaxDepth, Is.EqualTo((1L << 53) - 1));
    }

    private static void AssertFrom(Func<RoomVersion, bool> flag, int firstVersion)
    {
        foreach (var version in RoomVersion.Supported)
            Assert.That(flag(version), Is.EqualTo(int.Parse(version.Id) >= firstVersion), $"room version {version}");
    }
}
