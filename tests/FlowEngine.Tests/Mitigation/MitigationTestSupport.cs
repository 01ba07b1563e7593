// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Mitigation;
using FlowEngine.Packets;

namespace FlowEngine.Tests.Mitigation;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>A handler that records what it was asked to do, and can be made to fail.</summary>
internal sealed class RecordingHandler : IMitigationHandler
{
    public List<string> Calls { get; } = [];

    public HashSet<string> InForce { get; } = new(StringComparer.Ordinal);

    public string? FailWith { get; set; }

    public bool Disposed { get; private set; }

    public string Name => "recording";

    public void Apply(MitigationRequest action)
    {
        Calls.Add("apply " + action.Key);
        if (FailWith is not null)
        {
            throw new MitigationHandlerException(FailWith);
        }

        InForce.Add(action.Key);
    }

    public void Revert(MitigationRequest action)
    {
        Calls.Add("revert " + action.Key);
        InForce.Remove(action.Key);
    }

    public void Dispose() => Disposed = true;
}

internal static class MitigationTestData
{
    public static IpAddress Ip(string text) => IpAddress.From(IPAddress.Parse(text));

    public static Alert Alert(AttackClass c, double confidence, string src = "10.1.0.5", ushort sport = 40000, string dst = "203.0.113.9", ushort dport = 443, byte protocol = 6, long ns = 1_000_000_000) =>
        new(ns, c, 5.0, new FlowIdentity(VirtualNetworkId.None, 4, protocol, Ip(src), sport, Ip(dst), dport, ns)) { Confidence = confidence, Vm = "vm-a" };

    /// <summary>The audit log's lines, parsed.</summary>
    public static List<JsonElement> Lines(MemoryStream audit)
    {
        var lines = new List<JsonElement>();
        foreach (string line in Encoding.UTF8.GetString(audit.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            lines.Add(doc.RootElement.Clone());
        }

        return lines;
    }

    public static string Event(JsonElement line) => line.GetProperty("event").GetString()!;
}
