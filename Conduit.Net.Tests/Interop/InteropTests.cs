namespace Conduit.Net.Tests.Interop;

/// <summary>
/// Real clients, unchanged, against the real server: each case runs one scenario of this folder
/// through <see cref="NodeScenarios"/> against one server. A new scenario is a new script plus a new
/// <see cref="TestCaseAttribute"/>.
/// </summary>
[Category("Interop")]
public sealed class InteropTests
{
    private TestServer? _server;

    [OneTimeSetUp]
    public async Task Start()
    {
        await NodeScenarios.PrepareAsync();
        _server = await TestServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    [TestCase("accounts")]
    [TestCase("chat")]
    [TestCase("e2ee")]
    [TestCase("history-visibility")]
    public Task Matrix_js_sdk_completes_the_scenario(string scenario) => NodeScenarios.AssertPassesAsync(scenario, [_server!]);
}
