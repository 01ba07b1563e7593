// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Benchmarks.Synthetic;

namespace FlowEngine.Benchmarks.Commands;

/// <summary><c>generate</c>: writes a synthetic capture to a pcap file, streaming (memory does not grow with --packets).</summary>
public static class GenerateCommand
{
    private const string Help =
        "usage: generate --out FILE.pcap [--packets M] [options]\n" +
        "  --packets M      frames to write (default 1M)\n" + CommandArgs.ProfileHelp;

    /// <summary>Runs the mode.</summary>
    /// <param name="args">Arguments after <c>generate</c>.</param>
    /// <returns>Exit code.</returns>
    public static int Run(string[] args)
    {
        var a = new CommandArgs(args);
        if (a.Flag("help"))
        {
            Console.Write(Help);
            return 0;
        }

        string path = a.String("out", string.Empty);
        long packets = a.Int("packets", 1_000_000);
        TrafficProfile profile = a.Profile(100_000);
        a.ThrowIfUnknown();
        if (path.Length == 0)
        {
            Console.Error.Write(Help);
            return 2;
        }

        var sw = Stopwatch.StartNew();
        var generator = new SyntheticTraffic(profile);
        byte[] buffer = new byte[generator.MaxFrameLength];
        long bytes = 0;
        using (PcapWriter writer = PcapWriter.Create(path))
        {
            for (long i = 0; i < packets; i++)
            {
                int length = generator.NextFrame(buffer, out long timestampNs, out int wireLength);
                writer.Write(buffer.AsSpan(0, length), timestampNs, wireLength);
                bytes += wireLength;
            }
        }

        Console.WriteLine(
            $"wrote {path}: {packets} packets, {bytes} wire bytes (mean {(packets == 0 ? 0 : bytes / (double)packets):F1} B), " +
            $"{generator.DistinctFlows} of {profile.Flows} flows seen, {profile.Encapsulation}, seed {profile.Seed}, {sw.Elapsed.TotalSeconds:F2} s");
        return 0;
    }
}
