using Conduit.Net.Tests.Api;

namespace Conduit.Net.Tests;

/// <summary>A fixture whose tests share one real server: started before the first test, stopped after the last.</summary>
public abstract class ServerFixture
{
    protected TestServer Server { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync() => Server = await TestServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopServerAsync() => await Server.DisposeAsync();

    /// <summary>A newly registered user whose name starts with <paramref name="prefix"/>.</summary>
    private protected Task<TestSession> NewUserAsync(string prefix) => Server.RegisterAsync(Accounts.UniqueName(prefix));
}
