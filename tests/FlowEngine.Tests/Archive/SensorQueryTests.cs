// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FlowEngine.Tests.Archive;

/// <summary>
/// The sensor's <c>flows --archive</c> and <c>query</c>: an unfiltered query prints exactly what <c>flows</c> printed,
/// and each filter prints exactly the lines of <c>flows</c> output that a filter over its JSON fields keeps.
/// </summary>
public sealed class SensorQueryTests : IDisposable
{
    private readonly string _dir = ArchiveTestData.TempDirectory();
    private readonly string _archive;
    private readonly string[] _flows;

    public SensorQueryTests()
    {
        _archive = Path.Combine(_dir, "archive");
        (int exit, string stdout, string stderr) = RunSensor("flows", ArchiveTestData.LabCapture, "--inventory", ArchiveTestData.LabInventory, "--archive", _archive, "--quiet");
        Assert.True(exit == 0, stderr);
        _flows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Query_EveryFilter_EqualsFilteredFlowsOutput()
    {
        var docs = _flows.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        (int exit, string all, string stderr) = RunSensor("query", _archive, "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal(string.Join('\n', _flows) + "\n", all);
        Assert.Contains($"{_flows.Length} flows", stderr, StringComparison.Ordinal);

        // From the middle flow's first microsecond to 3 s later, as text the flows command wrote.
        long[] firsts = docs.Select(d => Micros(d.GetProperty("first_ts").GetRawText())).Order().ToArray();
        long fromUs = firsts[firsts.Length / 2], toUs = fromUs + 3_000_000;
        string vm = docs.Where(d => d.TryGetProperty("src_vm", out _)).GroupBy(d => d.GetProperty("src_vm").GetString()).OrderByDescending(g => g.Count()).First().Key!;
        string ip = docs[0].GetProperty("src_ip").GetString()!;
        string cidr = ip[..ip.LastIndexOf('.')] + ".0/24";
        var network = IPNetwork.Parse(cidr);
        uint vni = docs.Where(d => d.GetProperty("vn_type").GetString() != "none").Select(d => d.GetProperty("vn_id").GetUInt32()).First();
        var cases = new (string[] Args, Func<JsonElement, bool> Keep)[]
        {
            (["--port", "53"], d => Port(d, 53)),
            (["--proto", "udp"], d => d.GetProperty("proto").GetInt32() == 17),
            (["--proto", "58"], d => d.GetProperty("proto").GetInt32() == 58),
            (["--app", "http"], d => Str(d, "app") == "http"),
            (["--app", "dns", "--port", "53"], d => Str(d, "app") == "dns" && Port(d, 53)),
            (["--vm", vm], d => Str(d, "src_vm") == vm || Str(d, "dst_vm") == vm),
            (["--vni", vni.ToString(CultureInfo.InvariantCulture)], d => d.GetProperty("vn_type").GetString() != "none" && d.GetProperty("vn_id").GetUInt32() == vni),
            (["--ip", cidr], d => network.Contains(IPAddress.Parse(Str(d, "src_ip")!)) || network.Contains(IPAddress.Parse(Str(d, "dst_ip")!))),
            (["--from", Seconds(fromUs, "000"), "--to", Seconds(toUs, "999")], d => Micros(d.GetProperty("last_ts").GetRawText()) >= fromUs && Micros(d.GetProperty("first_ts").GetRawText()) <= toUs),
            (["--vm", vm, "--proto", "tcp", "--from", Seconds(fromUs, "000")], d => (Str(d, "src_vm") == vm || Str(d, "dst_vm") == vm) && d.GetProperty("proto").GetInt32() == 6 && Micros(d.GetProperty("last_ts").GetRawText()) >= fromUs),
            (["--alert"], _ => false),
        };
        foreach ((string[] args, Func<JsonElement, bool> keep) in cases)
        {
            string[] expected = _flows.Where((_, i) => keep(docs[i])).ToArray();
            (int code, string stdout, string err) = RunSensor(["query", _archive, .. args]);
            Assert.True(code == 0, err);
            string[] actual = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(expected.SequenceEqual(actual), $"query {string.Join(' ', args)}: {actual.Length} lines, expected {expected.Length}");
            if (args[0] != "--alert")
            {
                Assert.True(expected.Length > 0 && expected.Length < _flows.Length, $"query {string.Join(' ', args)} selects {expected.Length} of {_flows.Length}");
            }
        }
    }

    [Fact]
    public void Query_DamagedArchive_WarnsWithFileAndOffsetAndExitsOne()
    {
        string segment = Directory.GetFiles(_archive, "*.fes").Single();
        using (var f = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            f.SetLength(f.Length - 100);
        }

        (int exit, string stdout, string stderr) = RunSensor("query", _archive);
        Assert.Equal(1, exit);
        Assert.Matches($@"warning: {System.Text.RegularExpressions.Regex.Escape(segment)}: offset \d+: torn frame", stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 1, _flows.Length - 1);
        Assert.Equal(_flows.Take(lines.Length), lines);
    }

    [Theory]
    [InlineData("--proto", "bogus")]
    [InlineData("--ip", "10.0.0.0/40")]
    [InlineData("--from", "yesterday-ish")]
    [InlineData("--app", "smtp")]
    public void Query_BadFilter_ExitsTwoWithMessage(string option, string value)
    {
        (int exit, string stdout, string stderr) = RunSensor("query", _archive, option, value);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("error:", stderr, StringComparison.Ordinal);
    }

    private static bool Port(JsonElement d, int port) => d.GetProperty("src_port").GetInt32() == port || d.GetProperty("dst_port").GetInt32() == port;

    private static string? Str(JsonElement d, string name) => d.TryGetProperty(name, out JsonElement v) ? v.GetString() : null;

    private static long Micros(string ts) => long.Parse(ts.Replace(".", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static string Seconds(long micros, string nanos) => $"{micros / 1_000_000}.{micros % 1_000_000:D6}{nanos}";

    private static (int Exit, string Stdout, string Stderr) RunSensor(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "FlowEngine.Sensor.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        p.BeginErrorReadLine();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "sensor took over 60 s");
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.ToString());
    }
}
