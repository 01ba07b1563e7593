// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FlowEngine.Export;
using FlowEngine.Flows;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Export;

/// <summary>
/// The oracle for TCP (nfcapd 1.7.1 has no TCP listener): the test's collector keeps the bytes of the connection,
/// writes them as the TCP segments of one connection into a pcap (a live capture on loopback loses the packets
/// still in dumpcap's ring when it is stopped), and tshark 4.0's NetFlow/IPFIX dissector
/// (<c>-d tcp.port==PORT,cflow</c>) reassembles the messages and reads the flows back, the VNI (layer2SegmentId) included.
/// </summary>
public class TsharkIpfixTcpTests
{
    [Fact]
    public async Task Tcp_TsharkDissectsTheStream_SameFlowsCountersAndVni()
    {
        string dir = Directory.CreateTempSubdirectory("flowengine-tshark-ipfix-").FullName;
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = IpfixTcpTests.Port(listener);
            Task<byte[]> received = IpfixTcpTests.ReadToEndAsync(listener);
            (List<FlowRecord> records, _, _) = IpfixTestRun.Export(
                IpfixTestRun.Capture("suricata-verify/tests/vxlan-decoder-03/vxlan.pcap"), $"tcp://127.0.0.1:{port}",
                new IpfixExporterOptions { MaxMessageBytes = 700, MaxStringBytes = 64 });
            byte[] stream = await received.WaitAsync(TimeSpan.FromSeconds(20));
            string pcap = Path.Combine(dir, "ipfix.pcap");
            File.WriteAllBytes(pcap, TcpStreamPcap.Build(stream, port, segmentBytes: 1000));

            Assert.All(records, r => Assert.Equal(4, r.IpVersion));
            string[] fields = ["cflow.srcaddr", "cflow.dstaddr", "cflow.srcport", "cflow.dstport", "cflow.protocol", "cflow.octets", "cflow.packets", "cflow.layer2_segment_id", "cflow.flow_end_reason", "cflow.template_id"];
            var arguments = new List<string> { "-n", "-r", pcap, "-d", $"tcp.port=={port},cflow", "-Y", "cflow", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=," };
            foreach (string f in fields)
            {
                arguments.Add("-e");
                arguments.Add(f);
            }

            (int code, string output) = ExternalProcess.Run(Tshark.Executable, arguments);
            Assert.True(code == 0, $"tshark failed ({code}): {output}");

            // The values of each field over all frames, in stream order.
            var values = fields.ToDictionary(f => f, _ => new List<string>());
            foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('\t', StringComparison.Ordinal)))
            {
                string[] columns = line.TrimEnd('\r').Split('\t');
                for (int i = 0; i < fields.Length && i < columns.Length; i++)
                {
                    if (columns[i].Length != 0)
                    {
                        values[fields[i]].AddRange(columns[i].Split(','));
                    }
                }
            }

            Assert.Equal(["256", "257"], values["cflow.template_id"]);
            Assert.True(records.Count == values["cflow.srcaddr"].Count, $"{records.Count} records, tshark:\n{output}");

            // Octets and packets: forward then reverse (RFC 5103) for each flow, in template order.
            for (int i = 0; i < records.Count; i++)
            {
                FlowRecord r = records[i];
                string at = $"record {i}";
                Assert.True(r.SourceAddress.ToString(4) == values["cflow.srcaddr"][i], at);
                Assert.True(r.DestinationAddress.ToString(4) == values["cflow.dstaddr"][i], at);
                Assert.True(r.SourcePort.ToString(CultureInfo.InvariantCulture) == values["cflow.srcport"][i], at);
                Assert.True(r.DestinationPort.ToString(CultureInfo.InvariantCulture) == values["cflow.dstport"][i], at);
                Assert.True(r.Protocol.ToString(CultureInfo.InvariantCulture) == values["cflow.protocol"][i], at);
                Assert.True(r.ForwardBytes.ToString(CultureInfo.InvariantCulture) == values["cflow.octets"][2 * i], at);
                Assert.True(r.ReverseBytes.ToString(CultureInfo.InvariantCulture) == values["cflow.octets"][(2 * i) + 1], at);
                Assert.True(r.ForwardPackets.ToString(CultureInfo.InvariantCulture) == values["cflow.packets"][2 * i], at);
                Assert.True(r.ReversePackets.ToString(CultureInfo.InvariantCulture) == values["cflow.packets"][(2 * i) + 1], at);
                ulong segment = r.VnKind == VirtualNetworkKind.Vxlan ? (1UL << 56) | r.VnId : 0;
                Assert.True(segment.ToString(CultureInfo.InvariantCulture) == values["cflow.layer2_segment_id"][i], $"{at}: VNI {r.VnId}");
            }

            Assert.Contains(records, r => r.VnKind == VirtualNetworkKind.Vxlan && r.VnId != 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
