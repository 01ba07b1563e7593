// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using FlowEngine.Archive;
using FlowEngine.ArchiveHost;

namespace FlowEngine.Tests.Archive;

/// <summary>
/// A writer in a child process (tests/FlowEngine.ArchiveHost) killed with SIGKILL: everything it acknowledged (a flush
/// that returned) is read back bit for bit, a torn frame is named with its file and offset, and a new writer carries on.
/// </summary>
public sealed class ArchiveCrashTests : IDisposable
{
    private readonly string _dir = ArchiveTestData.TempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task KilledMidFrame_AcknowledgedRecordsReadBack_TornFrameNamed_WriterRecovers()
    {
        using (Process host = StartHost("torn", 1000))
        {
            Assert.Equal("ACK 1000", await ReadLineAsync(host));
            Assert.Equal("HALF", await ReadLineAsync(host));
            host.Kill();
            Assert.True(host.WaitForExit(10_000));
        }

        string newest = Directory.GetFiles(_dir, "*.fes").Order().Last();
        Assert.False(File.Exists(Path.ChangeExtension(newest, ".fei")), "the killed writer sealed its segment");
        long length = new FileInfo(newest).Length;
        var reader = new ArchiveReader(_dir);
        AssertPrefix(reader.Read().ToList(), 1000, exact: true);
        ArchiveIssue torn = Assert.Single(reader.Issues);
        Assert.Equal(newest, torn.Path);
        Assert.InRange(torn.Offset, ArchiveFormat.SegmentHeaderSize, length - 1);
        Assert.Contains("torn frame", torn.Message, StringComparison.Ordinal);

        // The next writer indexes the segment up to the torn frame, leaves its bytes, and appends after it.
        using (var writer = new ArchiveWriter(_dir))
        {
            ArchiveIssue recovered = Assert.Single(writer.RecoveryIssues);
            Assert.Equal((torn.Path, torn.Offset), (recovered.Path, recovered.Offset));
            for (long i = 1000; i < 1010; i++)
            {
                writer.Append(HostRecords.Record(i), HostRecords.Context(i));
            }
        }

        Assert.Equal(length, new FileInfo(newest).Length);
        reader = new ArchiveReader(_dir);
        AssertPrefix(reader.Read().ToList(), 1010, exact: true);
        Assert.Equal((torn.Path, torn.Offset), (Assert.Single(reader.Issues).Path, reader.Issues[0].Offset));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(29)]
    public async Task KilledAtRandom_EveryAcknowledgedRecordReadBack(int acksBeforeKill)
    {
        long acknowledged = 0;
        using (Process host = StartHost("run", 200_000))
        {
            for (int i = 0; i < acksBeforeKill; i++)
            {
                string line = await ReadLineAsync(host);
                Assert.StartsWith("ACK ", line, StringComparison.Ordinal);
                acknowledged = long.Parse(line.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
            }

            // Killed while it writes on: somewhere in a frame, between frames, or in a flush.
            await Task.Delay(acksBeforeKill % 7);
            host.Kill();
            Assert.True(host.WaitForExit(10_000));
        }

        var reader = new ArchiveReader(_dir);
        List<ArchivedFlow> flows = reader.Read().ToList();
        AssertPrefix(flows, acknowledged, exact: false);
        Assert.True(reader.Issues.Count <= 1, string.Join(" | ", reader.Issues));
        string newest = Directory.GetFiles(_dir, "*.fes").Order().Last();
        Assert.All(reader.Issues, i => Assert.Equal(newest, i.Path));
        using var writer = new ArchiveWriter(_dir);
        Assert.Equal(reader.Issues.Count, writer.RecoveryIssues.Count);
    }

    private static void AssertPrefix(List<ArchivedFlow> flows, long acknowledged, bool exact)
    {
        Assert.True(flows.Count >= acknowledged, $"{flows.Count} records read, {acknowledged} acknowledged");
        if (exact)
        {
            Assert.Equal(acknowledged, flows.Count);
        }

        for (int i = 0; i < flows.Count; i++)
        {
            Assert.True(ArchiveTestData.SameBits(HostRecords.Record(i), flows[i].Record), $"record {i} of {flows.Count}");
            Assert.Equal(HostRecords.Context(i).Score, flows[i].Score);
            Assert.Equal(HostRecords.Context(i).IsAlert, flows[i].IsAlert);
        }
    }

    private Process StartHost(string mode, int records)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "FlowEngine.ArchiveHost.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(mode);
        psi.ArgumentList.Add(_dir);
        psi.ArgumentList.Add(records.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Process p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<string> ReadLineAsync(Process host)
    {
        string? line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return line ?? throw new InvalidOperationException($"the archive host ended (exit {(host.HasExited ? host.ExitCode : -1)})");
    }
}
