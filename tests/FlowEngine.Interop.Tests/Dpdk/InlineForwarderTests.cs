// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using FlowEngine.Flows;
using FlowEngine.Interop.Dpdk;
using FlowEngine.Interop.Tests.Infrastructure;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Interop.Tests.Dpdk;

/// <summary>
/// The inline forwarder between two net_af_packet ports, with namespaces A and B joined only through it: ping and
/// TCP pass end to end, and mitigation rules drop or rate-limit one flow, or one address, while the rest passes.
/// </summary>
[Trait("Category", "Native")]
[Collection(EalCollection.Name)]
public class InlineForwarderTests(EalFixture fixture)
{
    private const string UdpReceiver = """
        import select, socket, sys, time
        socks = []
        for port in (7001, 7002):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], port))
            socks.append(s)
        print("ready", flush=True)
        end = time.time() + 60
        while time.time() < end:
            ready, _, _ = select.select(socks, [], [], 0.5)
            for s in ready:
                s.recv(2048)
                print(s.getsockname()[1], flush=True)
        """;

    private const string UdpSender = """
        import socket, sys, time
        dst, count, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        socks = []
        for pair in sys.argv[4:]:
            sport, dport = (int(x) for x in pair.split(":"))
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("", sport))
            socks.append((s, dport))
        for i in range(count):
            for s, dport in socks:
                s.sendto(b"x" * 100, (dst, dport))
            time.sleep(gap)
        """;

    [Fact]
    public void PingAndTcp_PassThroughTheEngine()
    {
        using var lab = new InlineLab();
        var records = new List<FlowRecord>();
        var table = new MitigationTable();
        using (var run = new ForwarderRun(fixture, lab, table, records))
        {
            // The oracle: tcpdump on A's own interface sees what A sent and what the engine delivered to it.
            using var tcpdump = new TcpdumpCapture(lab.InterfaceA, lab.NamespaceA);
            Ping(lab, expectReplies: true);

            // A 200 kB download from B's http.server to A, through the engine.
            string www = TestPaths.NewTempPath(".www");
            Directory.CreateDirectory(www);
            File.WriteAllBytes(Path.Combine(www, "file.bin"), new byte[200_000]);
            lab.Start(lab.NamespaceB, "python3", "-m", "http.server", "8080", "--bind", lab.AddressB, "--directory", www);
            string output = string.Empty;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                output = InlineLab.InNamespace(lab.NamespaceA, TimeSpan.FromSeconds(30), false, "curl", "-s", "-S", "--max-time", "10", "-o", "/dev/null", "-w", "%{size_request} %{size_header} %{size_download}", $"http://{lab.AddressB}:8080/file.bin").Trim();
                if (output.EndsWith(" 200000", StringComparison.Ordinal))
                {
                    break;
                }

                Thread.Sleep(200); // the server may not listen yet
            }

            Assert.True(output.EndsWith(" 200000", StringComparison.Ordinal), $"the download through the engine failed: {output}");
            Thread.Sleep(300);
            run.Stop();
            (_, long tcpdumpDrops) = tcpdump.Stop();
            Assert.Equal(0, tcpdumpDrops);
            Assert.Equal(0, run.Forwarder.Dropped);
            Assert.Equal(0, run.Forwarder.NotSent);
            Assert.Equal(0, table.Dropped);
            Assert.True(run.Forwarder.Forwarded > 150, $"{run.Forwarder.Forwarded} frames forwarded");
            AssertStatisticsAddUp(run.Forwarder);

            long[] sizes = output.Split(' ').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            FlowRecord http = Assert.Single(records, r => r.Protocol == 6 && r.DestinationPort == 8080 && r.ForwardPayloadBytes > 0);
            Assert.Equal(lab.AddressA, http.SourceAddress.ToString(4));
            // Without retransmissions (tshark's analysis of A's capture) the payload is exactly what curl exchanged.
            TsharkCount t = TsharkCount.Of(tcpdump.Path, lab.AddressA, lab.AddressB, 8080);
            string where = $"flow payload {http.ForwardPayloadBytes}/{http.ReversePayloadBytes}, curl {sizes[0]}/{sizes[1] + sizes[2]}, tshark {t.ForwardPayload}/{t.ReversePayload} with {t.Retransmissions} retransmissions";
            Assert.True(http.ForwardPayloadBytes >= (ulong)sizes[0] && http.ReversePayloadBytes >= (ulong)(sizes[1] + sizes[2]), where);
            Assert.True(t.Retransmissions != 0 || (http.ForwardPayloadBytes == (ulong)sizes[0] && http.ReversePayloadBytes == (ulong)(sizes[1] + sizes[2])), where);
            Assert.Contains(records, r => r.Protocol == 1 && r.ForwardPackets >= 3 && r.ReversePackets >= 3);

            // Every flow the engine accounted equals the file reader's flow over A's capture, packet for packet and
            // byte for byte (the connection attempts to a server not yet listening included). Not FirstPackets: it
            // interleaves the two directions, and the engine (two ports, one burst each in turn) sees B's data
            // before A's ACK that A sent before that data reached it; each direction's order is the same.
            FlowAssert.Equal(FlowAssert.FromFile(tcpdump.Path), records, "engine vs tcpdump on A's interface", [.. LiveCapture.TimeFields, nameof(FlowRecord.FirstPackets)]);
        }

        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }

    [Fact]
    public void DropOneFlow_ThatFlowStops_OtherFlowPasses()
    {
        using var lab = new InlineLab();
        var records = new List<FlowRecord>();
        var table = new MitigationTable();
        using (var run = new ForwarderRun(fixture, lab, table, records))
        {
            var counts = new int[2];
            Process receiver = lab.Start(lab.NamespaceB, "python3", "-c", UdpReceiver, lab.AddressB);
            using var ready = new ManualResetEventSlim();
            receiver.OutputDataReceived += (_, e) =>
            {
                if (e.Data == "ready")
                {
                    ready.Set();
                }
                else if (e.Data is "7001" or "7002")
                {
                    Interlocked.Increment(ref counts[e.Data == "7001" ? 0 : 1]);
                }
            };
            receiver.ErrorDataReceived += (_, _) => { };
            receiver.BeginOutputReadLine();
            receiver.BeginErrorReadLine();
            Assert.True(ready.Wait(TimeSpan.FromSeconds(10)), "the UDP receiver did not start");

            Send(lab, 10);
            WaitFor(() => Volatile.Read(ref counts[0]) == 10 && Volatile.Read(ref counts[1]) == 10, () => $"before the rule: {counts[0]}/{counts[1]} of 10/10 datagrams arrived");

            // Drop the 5001 <-> 7001 flow (either direction); 5002 <-> 7002 goes on.
            IpAddress a = IpAddress.From(IPAddress.Parse(lab.AddressA));
            IpAddress b = IpAddress.From(IPAddress.Parse(lab.AddressB));
            table.SetFlow(FlowSelector.Ports(17, b, 7001, a, 5001), MitigationRule.Drop);
            Send(lab, 10);
            WaitFor(() => Volatile.Read(ref counts[1]) == 20, () => $"after the rule: {counts[1]} of 20 datagrams of the other flow arrived");
            Thread.Sleep(300);
            Assert.Equal(10, Volatile.Read(ref counts[0]));
            Assert.Equal(10, table.Dropped);

            // Rate limit the other flow to 5 packets per second, bursts of 5: of 40 datagrams sent within about
            // 80 ms, the bucket lets through its 5 plus what refills meanwhile.
            table.RemoveFlow(FlowSelector.Ports(17, a, 5001, b, 7001));
            table.SetFlow(FlowSelector.Ports(17, a, 5002, b, 7002), MitigationRule.RateLimit(5, 5));
            var clock = Stopwatch.StartNew();
            Send(lab, 40, gap: "0.002", only7002: true);
            double seconds = clock.Elapsed.TotalSeconds;
            Thread.Sleep(500);
            int limited = Volatile.Read(ref counts[1]) - 20;
            Assert.True(limited >= 5 && limited <= 5 + (int)Math.Ceiling(seconds * 5) + 1, $"{limited} of 40 rate-limited datagrams arrived in {seconds:F2} s");

            // Drop a VM: every packet to or from B's address; ping stops, and passes again once the rule is gone.
            table.Clear();
            table.SetAddress(b, VirtualNetworkId.None, MitigationRule.Drop);
            Ping(lab, expectReplies: false);
            table.RemoveAddress(b, VirtualNetworkId.None);
            Ping(lab, expectReplies: true);
            run.Stop();

            // The flow table saw every datagram of the dropped flow: accounting comes before the verdict.
            FlowRecord dropped = Assert.Single(records, r => r.Protocol == 17 && (r.SourcePort == 5001 || r.DestinationPort == 5001));
            Assert.Equal(20u, dropped.ForwardPackets + dropped.ReversePackets);
            AssertStatisticsAddUp(run.Forwarder);
            Assert.Equal(table.Dropped, run.Forwarder.Dropped);
        }

        Assert.Equal(fixture.Pool.Capacity, fixture.Pool.AvailableCount);
    }

    /// <summary>The inline path counts as a file-reader pipeline does: every frame read, decoded or rejected once.</summary>
    private static void AssertStatisticsAddUp(InlineForwarder forwarder)
    {
        PipelineStatistics stats = forwarder.Statistics;
        Assert.Equal(forwarder.Received, stats.PacketsRead);
        Assert.Equal(stats.PacketsRead, stats.PacketsDecoded + stats.PacketsRejected);
        Assert.Equal(forwarder.Table.Statistics.Packets, stats.PacketsDecoded);
        Assert.True(stats.PacketsDecoded > 0, "nothing decoded");
        Assert.Equal(forwarder.Received, forwarder.Forwarded + forwarder.Dropped + forwarder.NotSent);
    }

    private static void Ping(InlineLab lab, bool expectReplies)
    {
        string output = InlineLab.InNamespace(lab.NamespaceA, TimeSpan.FromSeconds(20), false, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", lab.AddressB);
        bool replied = output.Contains(" 0% packet loss", StringComparison.Ordinal);
        bool none = output.Contains("100% packet loss", StringComparison.Ordinal);
        Assert.True(expectReplies ? replied : none, $"ping from A to B, expecting {(expectReplies ? "replies" : "none")}: {output}");
    }

    private static void Send(InlineLab lab, int count, string gap = "0.01", bool only7002 = false)
    {
        string[] pairs = only7002 ? ["5002:7002"] : ["5001:7001", "5002:7002"];
        InlineLab.InNamespace(lab.NamespaceA, TimeSpan.FromSeconds(20), true, ["python3", "-c", UdpSender, lab.AddressB, count.ToString(CultureInfo.InvariantCulture), gap, .. pairs]);
    }

    private static void WaitFor(Func<bool> condition, Func<string> failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), failure());
            Thread.Sleep(20);
        }
    }

    /// <summary>Two net_af_packet ports on the engine ends of the lab, and a forwarder running on its own thread.</summary>
    private sealed class ForwarderRun : IDisposable
    {
        private readonly DpdkPort _first;
        private readonly DpdkPort _second;
        private readonly CancellationTokenSource _cancel = new();
        private readonly Thread _thread;
        private Exception? _failure;
        private bool _stopped;

        public ForwarderRun(EalFixture fixture, InlineLab lab, IPacketVerdict verdict, List<FlowRecord> records)
        {
            _first = Attach(fixture, lab.EngineA);
            _second = Attach(fixture, lab.EngineB);
            Forwarder = new InlineForwarder(_first, _second, verdict, FlowSink.ToList(records));
            _thread = new Thread(() =>
            {
                try
                {
                    Forwarder.Run(_cancel.Token);
                }
                catch (Exception e)
                {
                    _failure = e;
                }
            })
            {
                IsBackground = true,
                Name = "fe-inline",
            };
            _thread.Start();
        }

        public InlineForwarder Forwarder { get; }

        /// <summary>Stops the forwarder (its flows are flushed) and rethrows its failure.</summary>
        public void Stop()
        {
            if (!_stopped)
            {
                _stopped = true;
                _cancel.Cancel();
                Assert.True(_thread.Join(TimeSpan.FromSeconds(10)), "the forwarder did not stop within 10 s");
            }

            Assert.Null(_failure);
        }

        public void Dispose()
        {
            _stopped = true;
            _cancel.Cancel();
            _thread.Join(TimeSpan.FromSeconds(10));
            Forwarder.Dispose();
            _first.Dispose();
            _second.Dispose();
            _cancel.Dispose();
        }

        private static DpdkPort Attach(EalFixture fixture, string iface)
        {
            DpdkPort port = fixture.Eal.AttachVirtualDevice(fixture.NextDeviceName("net_af_packet"), $"iface={iface},qpairs=1,blocksz=4096,framesz=2048,framecnt=512");
            port.Configure(new DpdkPortOptions { RxQueues = 1, TxQueues = 1 }, fixture.Pool);
            port.Start();
            return port;
        }
    }
}
