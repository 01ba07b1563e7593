// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.Json;
using FlowEngine.Detection;
using FlowEngine.Mitigation;

namespace FlowEngine.Interop.Mitigation;

/// <summary>Options of the <see cref="TcMitigationHandler"/>.</summary>
public sealed class TcHandlerOptions
{
    /// <summary>Interfaces every shape action is installed on (what leaves them is shaped): a VM's tap shapes what the VM receives, the uplink what it sends.</summary>
    public IReadOnlyList<string> Devices { get; set; } = [];

    /// <summary>A VM's own interfaces by VM name, added for actions that name the VM (<see cref="MitigationRequest.Vm"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> VmDevices { get; set; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

    /// <summary>A network namespace to act in (through ip netns exec); null for the current one.</summary>
    public string? NetworkNamespace { get; set; }

    /// <summary>Longest a single tc call may take.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The tc handler: shapes flows and addresses on interfaces with an HTB root qdisc of its own (handle fe1:, whose
/// default sends unclassified traffic unshaped), one class per action at the action's rate and u32 filters that send
/// the action's packets (both directions of a flow, from and to an address) to it. Shapes bytes per second only, and
/// only shapes (block and isolate are the nftables and inline handlers'). Revert deletes the action's filters and
/// class; dispose deletes the root qdisc of every interface it used. An interface whose root qdisc was set up by
/// someone else is left alone (the action fails).
/// </summary>
/// <remarks>The u32 port matches assume IPv4 headers without options (the offset of a 20-byte header).</remarks>
public sealed class TcMitigationHandler : IMitigationHandler
{
    /// <summary>The major number of the handler's qdisc handle (fe1:).</summary>
    public const string QdiscHandle = "fe1:";

    private readonly TcHandlerOptions _options;
    private readonly ToolRunner _tc;
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Id, string[] Devices)> _applied = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _nextId = 1;
    private bool _disposed;

    /// <summary>Creates the handler; interfaces are set up at the first action on them.</summary>
    /// <param name="options">Interfaces and namespace.</param>
    public TcMitigationHandler(TcHandlerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _tc = new ToolRunner("tc", options.NetworkNamespace, options.CommandTimeout);
    }

    /// <inheritdoc/>
    public string Name => "tc";

    /// <summary>The tc commands an action becomes on one interface (class and filters), for a class id.</summary>
    /// <param name="action">A shape action.</param>
    /// <param name="device">The interface.</param>
    /// <param name="id">Class minor number and filter priority, 1 to 65534.</param>
    /// <returns>The argument lists of the tc calls.</returns>
    public static IReadOnlyList<string[]> CommandsOf(MitigationRequest action, string device, int id)
    {
        ArgumentNullException.ThrowIfNull(action);
        ShapeRate rate = action.Rate is { Unit: RateUnit.BytesPerSecond } r ? r : throw new MitigationHandlerException("tc shapes bytes per second; use the inline or nftables handler for packets per second");
        string classId = QdiscHandle + id.ToString("x", CultureInfo.InvariantCulture);
        string bits = (rate.PerSecond * 8).ToString(CultureInfo.InvariantCulture) + "bit";
        string burst = Math.Max(rate.Burst, 3028).ToString(CultureInfo.InvariantCulture);
        var commands = new List<string[]>
        {
            new[] { "class", "replace", "dev", device, "parent", QdiscHandle, "classid", classId, "htb", "rate", bits, "ceil", bits, "burst", burst, "cburst", burst },
        };
        string prio = id.ToString(CultureInfo.InvariantCulture);
        foreach (string[] match in Matches(action))
        {
            string protocol = match[0];
            commands.Add([.. (string[])["filter", "add", "dev", device, "parent", QdiscHandle, "protocol", protocol, "prio", prio, "u32"], .. match[1..], "flowid", classId]);
        }

        return commands;
    }

    /// <inheritdoc/>
    public void Apply(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (action.Kind != MitigationKind.Shape)
        {
            throw new MitigationHandlerException($"tc only shapes; {action.Kind.ToString().ToLowerInvariant()} is for the nftables or inline handler");
        }

        if (action.Rate is not { Unit: RateUnit.BytesPerSecond })
        {
            throw new MitigationHandlerException("tc shapes bytes per second; use the inline or nftables handler for packets per second");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_applied.ContainsKey(action.Key))
            {
                return;
            }

            string[] devices = DevicesOf(action);
            if (devices.Length == 0)
            {
                throw new MitigationHandlerException($"tc: no interface to shape on (no devices configured{(action.Vm is null ? "" : $" and none for VM '{action.Vm}'")})");
            }

            if (_nextId > 0xFFFE)
            {
                throw new MitigationHandlerException("tc: out of class ids");
            }

            int id = _nextId++;
            _applied[action.Key] = (id, devices);
            foreach (string device in devices)
            {
                EnsureRoot(device);
                foreach (string[] command in CommandsOf(action, device, id))
                {
                    _tc.Run(command);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Revert(MitigationRequest action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_gate)
        {
            if (_disposed || !_applied.Remove(action.Key, out (int Id, string[] Devices) a))
            {
                return;
            }

            foreach (string device in a.Devices)
            {
                RemoveClass(device, a.Id);
            }
        }
    }

    /// <summary>Deletes the handler's root qdisc (with every class and filter) from every interface it used.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (string device in _devices)
            {
                if (RootHandle(device) == QdiscHandle)
                {
                    _tc.TryRun(["qdisc", "del", "dev", device, "root"], null, out _, out _);
                }
            }

            _devices.Clear();
            _applied.Clear();
        }
    }

    private static IEnumerable<string[]> Matches(MitigationRequest a)
    {
        if (a.Flow is FlowIdentity f)
        {
            bool v6 = f.IpVersion == 6;
            string proto = v6 ? "ipv6" : "ip";
            string m = v6 ? "ip6" : "ip";
            string bits = v6 ? "/128" : "/32";
            string src = f.Source.ToString(f.IpVersion) + bits, dst = f.Destination.ToString(f.IpVersion) + bits;
            string p = f.Protocol.ToString(CultureInfo.InvariantCulture);
            bool ports = f.Protocol is 6 or 17;
            foreach ((string s, string d, ushort sp, ushort dp) in new[] { (src, dst, f.SourcePort, f.DestinationPort), (dst, src, f.DestinationPort, f.SourcePort) })
            {
                var list = new List<string> { proto, "match", m, "src", s, "match", m, "dst", d, "match", m, "protocol", p, "0xff" };
                if (ports)
                {
                    list.AddRange(["match", m, "sport", sp.ToString(CultureInfo.InvariantCulture), "0xffff", "match", m, "dport", dp.ToString(CultureInfo.InvariantCulture), "0xffff"]);
                }

                yield return [.. list];
            }

            yield break;
        }

        IpNetwork t = a.Address!.Value;
        bool six = t.IpVersion == 6;
        string cidr = t.ToCidrString();
        yield return [six ? "ipv6" : "ip", "match", six ? "ip6" : "ip", "src", cidr];
        yield return [six ? "ipv6" : "ip", "match", six ? "ip6" : "ip", "dst", cidr];
    }

    private string[] DevicesOf(MitigationRequest action)
    {
        var devices = new List<string>(_options.Devices);
        if (action.Vm is not null && _options.VmDevices.TryGetValue(action.Vm, out IReadOnlyList<string>? own))
        {
            devices.AddRange(own);
        }

        return [.. devices.Distinct(StringComparer.Ordinal)];
    }

    private void EnsureRoot(string device)
    {
        if (_devices.Contains(device))
        {
            return;
        }

        string? handle = RootHandle(device);
        if (handle is not (null or "0:" or QdiscHandle))
        {
            throw new MitigationHandlerException($"tc: {device} has a root qdisc of its own (handle {handle}); not replacing it");
        }

        // A qdisc of ours left by an earlier run is replaced with an empty one.
        _tc.Run(["qdisc", "replace", "dev", device, "root", "handle", QdiscHandle, "htb", "default", "0"]);
        _devices.Add(device);
    }

    private string? RootHandle(string device)
    {
        string json = _tc.Run(["-j", "qdisc", "show", "dev", device]);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            foreach (JsonElement q in doc.RootElement.EnumerateArray())
            {
                if (q.TryGetProperty("root", out JsonElement root) && root.ValueKind == JsonValueKind.True)
                {
                    return q.GetProperty("handle").GetString();
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new MitigationHandlerException($"tc -j qdisc show dev {device}: unexpected output ({e.Message})", e);
        }

        return null;
    }

    private void RemoveClass(string device, int id)
    {
        string prio = id.ToString(CultureInfo.InvariantCulture);
        _tc.TryRun(["filter", "del", "dev", device, "parent", QdiscHandle, "protocol", "ip", "prio", prio], null, out _, out _);
        _tc.TryRun(["filter", "del", "dev", device, "parent", QdiscHandle, "protocol", "ipv6", "prio", prio], null, out _, out _);
        _tc.Run(["class", "del", "dev", device, "classid", QdiscHandle + id.ToString("x", CultureInfo.InvariantCulture)]);
    }
}
