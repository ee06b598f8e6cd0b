using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Conduit.Net.Services.Federation.Discovery;
using DnsClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Net.Tests.Federation;

/// <summary>
/// "Resolving server names", step by step: which host and port are connected to, and which Host header
/// (and so TLS name) is sent. The steps are fed fixed well-known and SRV answers; SRV also goes once
/// through DnsClient to a small DNS responder on loopback, and well-known once over HTTPS to a real server.
/// </summary>
public sealed class ServerDiscoveryTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [TestCase("1.2.3.4", "1.2.3.4", 8448, "1.2.3.4")]
    [TestCase("1.2.3.4:1234", "1.2.3.4", 1234, "1.2.3.4:1234")]
    [TestCase("[2001:db8::1]", "[2001:db8::1]", 8448, "[2001:db8::1]")]
    [TestCase("[2001:db8::1]:99", "[2001:db8::1]", 99, "[2001:db8::1]:99")]
    [TestCase("example.org:8000", "example.org", 8000, "example.org:8000")]
    public async Task An_IP_literal_or_an_explicit_port_is_used_without_delegation(string serverName, string host, int port, string hostHeader)
    {
        var discovery = new ServerDiscovery(new FixedWellKnown("delegated.example:443"), new FixedSrv(("_matrix-fed._tcp.example.org", new SrvTarget("srv.example", 1))));

        var resolved = await discovery.ResolveAsync(serverName, CancellationToken.None);

        Assert.That(resolved, Is.EqualTo(new ResolvedServer(host, port, hostHeader)));
    }

    [TestCase("5.6.7.8", "5.6.7.8", 8448, "5.6.7.8")]
    [TestCase("5.6.7.8:9000", "5.6.7.8", 9000, "5.6.7.8:9000")]
    [TestCase("matrix.example.org:443", "matrix.example.org", 443, "matrix.example.org:443")]
    public async Task Well_known_delegation_to_an_IP_literal_or_a_port_is_used_as_is(string delegated, string host, int port, string hostHeader)
    {
        var discovery = new ServerDiscovery(new FixedWellKnown(delegated), new FixedSrv(("_matrix-fed._tcp.example.org", new SrvTarget("srv.example", 1))));

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer(host, port, hostHeader)));
    }

    [Test]
    public async Task Delegation_to_a_bare_name_looks_up_its_SRV_records_and_keeps_the_delegated_name_as_Host()
    {
        var srv = new FixedSrv(("_matrix-fed._tcp.matrix.example.org", new SrvTarget("backend.example.net", 8008)));
        var discovery = new ServerDiscovery(new FixedWellKnown("matrix.example.org"), srv);

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer("backend.example.net", 8008, "matrix.example.org")));
    }

    [Test]
    public async Task Delegation_to_a_bare_name_without_SRV_goes_to_port_8448()
    {
        var discovery = new ServerDiscovery(new FixedWellKnown("matrix.example.org"), new FixedSrv());

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer("matrix.example.org", 8448, "matrix.example.org")));
    }

    [Test]
    public async Task Without_well_known_SRV_matrix_fed_is_preferred_to_the_legacy_matrix_record()
    {
        var srv = new FixedSrv(
            ("_matrix-fed._tcp.example.org", new SrvTarget("fed.example.org", 8443)),
            ("_matrix._tcp.example.org", new SrvTarget("legacy.example.org", 8449)));
        var discovery = new ServerDiscovery(new FixedWellKnown(null), srv);

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer("fed.example.org", 8443, "example.org")));
    }

    [Test]
    public async Task Without_well_known_the_legacy_SRV_record_still_counts()
    {
        var discovery = new ServerDiscovery(new FixedWellKnown(null), new FixedSrv(("_matrix._tcp.example.org", new SrvTarget("legacy.example.org", 8449))));

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer("legacy.example.org", 8449, "example.org")));
    }

    [Test]
    public async Task With_nothing_found_the_name_itself_on_port_8448()
    {
        var discovery = new ServerDiscovery(new FixedWellKnown(null), new FixedSrv());

        Assert.That(await discovery.ResolveAsync("example.org", CancellationToken.None), Is.EqualTo(new ResolvedServer("example.org", 8448, "example.org")));
    }

    [Test]
    public async Task SRV_records_come_from_DNS_lowest_priority_first()
    {
        using var dns = new TinyDnsResponder(("_matrix-fed._tcp.example.org", [(20, 0, 9001, "second.example.org"), (10, 5, 9000, "first.example.org")]));
        var client = new LookupClient(new LookupClientOptions(new NameServer(IPAddress.Loopback, dns.Port)) { UseCache = false, Retries = 0, Timeout = TimeSpan.FromSeconds(5) });
        var discovery = new ServerDiscovery(new FixedWellKnown(null), new DnsSrvLookup(client, NullLogger<DnsSrvLookup>.Instance));

        var resolved = await discovery.ResolveAsync("example.org", CancellationToken.None);

        Assert.That(resolved, Is.EqualTo(new ResolvedServer("first.example.org", 9000, "example.org")));
        Assert.That(dns.Questions, Does.Contain("_matrix-fed._tcp.example.org"));
    }

    [Test]
    public async Task Well_known_is_fetched_over_HTTPS_and_cached()
    {
        await using var delegating = await FederatedServer.StartAsync(c => c with { WellKnown = new() { Server = "matrix.example.org:443" } });
        await using var asking = await FederatedServer.StartAsync();
        var wellKnown = asking.Host.Services.GetRequiredService<IWellKnownSource>();

        // The host part carries the port here only because the test server cannot listen on 443.
        var first = await wellKnown.DelegatedServerAsync(delegating.Name(), CancellationToken.None);
        await delegating.RestartAsync(c => c with { WellKnown = new() { Server = "elsewhere.example.org:443" } });
        var second = await wellKnown.DelegatedServerAsync(delegating.Name(), CancellationToken.None);

        Assert.That(first, Is.EqualTo("matrix.example.org:443"));
        Assert.That(second, Is.EqualTo(first), "the answer is cached");
    }

    [Test]
    public async Task A_server_without_well_known_is_no_delegation()
    {
        await using var plain = await FederatedServer.StartAsync();
        await using var asking = await FederatedServer.StartAsync();

        Assert.That(await asking.Host.Services.GetRequiredService<IWellKnownSource>().DelegatedServerAsync(plain.Name(), CancellationToken.None), Is.Null);
    }

    [TestCase("max-age=3600", 3600)]
    [TestCase("public, max-age=600", 600)]
    [TestCase("max-age=604800", 48 * 3600)]
    [TestCase("no-store", 0)]
    [TestCase(null, 24 * 3600)]
    public void Well_known_answers_are_kept_as_Cache_Control_says_within_48_hours(string? cacheControl, int seconds)
    {
        var header = cacheControl is null ? null : CacheControlHeaderValue.Parse(cacheControl);

        Assert.That(WellKnownClient.SuccessLifetime(header, null, Now), Is.EqualTo(TimeSpan.FromSeconds(seconds)));
    }

    [Test]
    public void Expires_counts_when_there_is_no_max_age()
    {
        Assert.That(WellKnownClient.SuccessLifetime(null, Now.AddHours(2), Now), Is.EqualTo(TimeSpan.FromHours(2)));
    }

    private sealed class FixedWellKnown(string? delegated) : IWellKnownSource
    {
        public Task<string?> DelegatedServerAsync(string hostname, CancellationToken cancellationToken) => Task.FromResult(delegated);
    }

    private sealed class FixedSrv(params (string Name, SrvTarget Target)[] records) : ISrvLookup
    {
        public Task<SrvTarget?> LookupAsync(string name, CancellationToken cancellationToken) =>
            Task.FromResult(records.Where(r => r.Name == name).Select(r => r.Target).FirstOrDefault());
    }

    /// <summary>Answers SRV questions over UDP on loopback from a fixed table; anything else gets no answers.</summary>
    private sealed class TinyDnsResponder : IDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly Dictionary<string, (ushort Priority, ushort Weight, ushort Port, string Target)[]> _records;
        private readonly CancellationTokenSource _stop = new();

        public TinyDnsResponder(params (string Name, (ushort, ushort, ushort, string)[] Records)[] records)
        {
            _records = records.ToDictionary(r => r.Name, r => r.Records);
            _ = Task.Run(ServeAsync);
        }

        public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

        public List<string> Questions { get; } = [];

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
            _stop.Dispose();
        }

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult query;
                try
                {
                    query = await _udp.ReceiveAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }
                var reply = Answer(query.Buffer);
                await _udp.SendAsync(reply, query.RemoteEndPoint);
            }
        }

        private byte[] Answer(byte[] query)
        {
            // Header (12 bytes), then one question: labels, a zero byte, type and class.
            var offset = 12;
            var labels = new List<string>();
            while (query[offset] != 0)
            {
                labels.Add(Encoding.ASCII.GetString(query, offset + 1, query[offset]));
                offset += query[offset] + 1;
            }
            var questionEnd = offset + 5;
            var name = string.Join('.', labels);
            lock (Questions)
                Questions.Add(name);
            var answers = _records.GetValueOrDefault(name) ?? [];

            var reply = new List<byte>(query[..questionEnd]);
            reply[2] = 0x81;
            reply[3] = 0x80;
            reply[6] = 0;
            reply[7] = (byte)answers.Length;
            reply[8] = reply[9] = reply[10] = reply[11] = 0;
            foreach (var (priority, weight, port, target) in answers)
            {
                var rdata = new List<byte>();
                rdata.AddRange(BigEndian(priority));
                rdata.AddRange(BigEndian(weight));
                rdata.AddRange(BigEndian(port));
                foreach (var label in target.Split('.'))
                {
                    rdata.Add((byte)label.Length);
                    rdata.AddRange(Encoding.ASCII.GetBytes(label));
                }
                rdata.Add(0);
                reply.AddRange([0xC0, 0x0C, 0, 33, 0, 1, 0, 0, 0, 60]);
                reply.AddRange(BigEndian((ushort)rdata.Count));
                reply.AddRange(rdata);
            }
            return [.. reply];
        }

        private static byte[] BigEndian(ushort value) => [(byte)(value >> 8), (byte)value];
    }
}
