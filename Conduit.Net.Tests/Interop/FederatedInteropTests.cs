using Conduit.Net.Tests.Federation;

namespace Conduit.Net.Tests.Interop;

/// <summary>
/// Real clients on two federating servers: each case runs <c>node run.mjs SCENARIO URL_A URL_B</c>,
/// with users of the scenario on each server and matrix-js-sdk trusting the servers' test authority.
/// </summary>
[Category("Interop")]
public sealed class FederatedInteropTests : FederatedFixture
{
    [OneTimeSetUp]
    public Task PrepareNodeAsync() => NodeScenarios.PrepareAsync();

    [TestCase("federated-chat")]
    [TestCase("federated-e2ee")]
    public Task Matrix_js_sdk_on_each_server_completes_the_scenario(string scenario) =>
        NodeScenarios.AssertPassesAsync(scenario, Servers, TestCertificateAuthority.Instance.AuthorityPem);
}
