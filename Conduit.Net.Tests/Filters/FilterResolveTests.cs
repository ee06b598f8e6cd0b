using Conduit.Net.Core.Errors;
using Conduit.Net.Services.Filters;
using Conduit.Net.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Tests.Filters;

/// <summary>
/// How a request's <c>filter</c> parameter (as <c>/sync</c> takes it) becomes a filter: none, an
/// uploaded filter's id, or inline JSON, which the spec tells apart by a leading <c>{</c>.
/// </summary>
public sealed class FilterResolveTests : ServerFixture
{
    private FilterService Filters => Server.Host.Services.GetRequiredService<FilterService>();

    [Test]
    public async Task An_uploaded_filter_id_resolves_to_that_filter_for_its_owner_only()
    {
        var session = await Server.RegisterAsync(Accounts.UniqueName("resolve"));
        var (_, created) = await Server.SendRawAsync(
            HttpMethod.Post, $"/_matrix/client/v3/user/{Uri.EscapeDataString(session.UserId)}/filter",
            """{"room": {"timeline": {"limit": 7}}}""", session.AccessToken);
        var filterId = (string)created!["filter_id"]!;

        Assert.That(Filters.Resolve(session.UserId, filterId).Room.Timeline.Limit, Is.EqualTo(7));
        var error = Assert.Throws<MatrixException>(() => Filters.Resolve("@someone-else:localhost", filterId));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }

    [Test]
    public void Inline_json_is_parsed_and_no_filter_means_everything()
    {
        Assert.That(Filters.Resolve("@a:localhost", """{"room": {"timeline": {"limit": 3}}}""").Room.Timeline.Limit, Is.EqualTo(3));
        Assert.That(Filters.Resolve("@a:localhost", null), Is.SameAs(Filter.Everything));
        Assert.That(Filters.Resolve("@a:localhost", ""), Is.SameAs(Filter.Everything));
    }

    [Test]
    public void An_unknown_filter_id_is_400_M_INVALID_PARAM()
    {
        var error = Assert.Throws<MatrixException>(() => Filters.Resolve("@a:localhost", "424242"));
        Assert.That(error!.Code, Is.EqualTo(ErrorCode.InvalidParam));
    }
}
