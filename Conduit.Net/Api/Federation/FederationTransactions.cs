using Conduit.Net.Api.Http;
using Conduit.Net.Services.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api.Federation;

/// <summary><c>PUT /_matrix/federation/v1/send/{txnId}</c>: a transaction of PDUs and EDUs from another server.</summary>
internal static class FederationTransactions
{
    public static void MapFederationTransactions(this IEndpointRouteBuilder routes) =>
        routes.MapPut("/_matrix/federation/v1/send/{txnId}", SendAsync).RequireServerSignature();

    private static async Task SendAsync(HttpContext http)
    {
        var body = await http.ReadObjectAsync();
        var answer = await http.RequestServices.GetRequiredService<InboundTransactions>()
            .ReceiveAsync(http.OriginServer(), http.Route("txnId"), body, http.RequestAborted);
        await http.WriteJsonAsync(answer);
    }
}
