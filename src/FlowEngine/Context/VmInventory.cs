// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using FlowEngine.Packets;

namespace FlowEngine.Context;

/// <summary>
/// The VMs a deployment knows: from an inventory file (CSV with the header
/// <c>name,tenant,vni,inner_ip,inner_mac,role,hypervisor</c> as the lab writes it, or JSON with the same keys), from
/// libvirt domain XML, or built in code. Immutable once built; one inventory serves every worker's
/// <see cref="VmIdentityTable"/>. A row with role <c>gateway</c> is its virtual network's gateway.
/// </summary>
public sealed class VmInventory
{
    /// <summary>The CSV header the inventory file has (the lab's <c>inventory.csv</c>).</summary>
    public const string CsvHeader = "name,tenant,vni,inner_ip,inner_mac,role,hypervisor";

    private static readonly string[] s_columns = CsvHeader.Split(',');

    private readonly VmInfo[] _vms;

    /// <summary>An inventory of <paramref name="vms"/>.</summary>
    /// <param name="vms">The VMs; two with the same (VNI, address) or the same MAC in one VNI are refused.</param>
    public VmInventory(IEnumerable<VmInfo> vms)
    {
        ArgumentNullException.ThrowIfNull(vms);
        _vms = [.. vms];
        var addresses = new HashSet<(uint?, IpAddress, byte)>();
        var macs = new HashSet<(uint?, ulong)>();
        foreach (VmInfo vm in _vms)
        {
            ArgumentNullException.ThrowIfNull(vm, nameof(vms));
            if (vm.Address is IpAddress a && !addresses.Add((vm.Vni, a, vm.IpVersion)))
            {
                throw new ArgumentException($"two VMs have the address {a.ToString(vm.IpVersion)} in VNI {vm.Vni}: {vm.Name} and another", nameof(vms));
            }

            if (vm.Mac != 0 && !macs.Add((vm.Vni, vm.Mac)))
            {
                throw new ArgumentException($"two VMs have the MAC {vm.MacText} in VNI {vm.Vni}: {vm.Name} and another", nameof(vms));
            }
        }
    }

    /// <summary>The VMs, in the order read.</summary>
    public IReadOnlyList<VmInfo> Vms => _vms;

    /// <summary>Reads an inventory file: <c>.json</c> as JSON, <c>.xml</c> as libvirt domain XML, anything else as CSV.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The inventory.</returns>
    /// <exception cref="VmInventoryFormatException">The file is not a valid inventory (the message names file and line).</exception>
    public static VmInventory Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".xml")
        {
            return FromLibvirt([path]);
        }

        using var reader = new StreamReader(path);
        return extension == ".json" ? ParseJson(reader, path) : ParseCsv(reader, path);
    }

    /// <summary>Parses the CSV inventory (header <see cref="CsvHeader"/>; columns may come in any order, extra columns are ignored).</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">Its name, for errors.</param>
    /// <returns>The inventory.</returns>
    /// <exception cref="VmInventoryFormatException">A bad header, row, address, MAC or VNI.</exception>
    public static VmInventory ParseCsv(TextReader reader, string source = "inventory")
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? header = reader.ReadLine();
        if (header is null)
        {
            throw new VmInventoryFormatException(source, 1, $"empty file; expected the header '{CsvHeader}'");
        }

        List<string> names = SplitCsv(header.TrimStart('\uFEFF'), source, 1);
        var index = new int[s_columns.Length];
        for (int c = 0; c < s_columns.Length; c++)
        {
            index[c] = names.FindIndex(n => string.Equals(n.Trim(), s_columns[c], StringComparison.OrdinalIgnoreCase));
        }

        if (index[0] < 0 || (index[3] < 0 && index[4] < 0))
        {
            throw new VmInventoryFormatException(source, 1, $"header '{header}' lacks name and inner_ip or inner_mac; expected '{CsvHeader}'");
        }

        var vms = new List<VmInfo>();
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            List<string> fields = SplitCsv(line, source, lineNumber);
            string Field(int column) => index[column] >= 0 && index[column] < fields.Count ? fields[index[column]].Trim() : string.Empty;
            vms.Add(Row(source, lineNumber, Field(0), Field(1), Field(2), Field(3), Field(4), Field(5), Field(6), VmSource.Inventory));
        }

        return Build(vms, source);
    }

    /// <summary>
    /// Parses the JSON inventory: an array of objects (or an object whose <c>vms</c> property is that array) with the
    /// CSV's keys (<c>name</c>, <c>tenant</c>, <c>vni</c> as a number or string, <c>inner_ip</c>, <c>inner_mac</c>,
    /// <c>role</c>, <c>hypervisor</c>).
    /// </summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">Its name, for errors.</param>
    /// <returns>The inventory.</returns>
    /// <exception cref="VmInventoryFormatException">Not JSON, or a bad entry.</exception>
    public static VmInventory ParseJson(TextReader reader, string source = "inventory")
    {
        ArgumentNullException.ThrowIfNull(reader);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(reader.ReadToEnd(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new VmInventoryFormatException(source, (int)(e.LineNumber ?? -1) + 1, $"not JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement list = document.RootElement;
            if (list.ValueKind == JsonValueKind.Object && list.TryGetProperty("vms", out JsonElement inner))
            {
                list = inner;
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new VmInventoryFormatException(source, 0, "expected an array of VMs (or an object with a 'vms' array)");
            }

            var vms = new List<VmInfo>();
            int n = 0;
            foreach (JsonElement e in list.EnumerateArray())
            {
                n++;
                if (e.ValueKind != JsonValueKind.Object)
                {
                    throw new VmInventoryFormatException(source, 0, $"entry {n} is not an object");
                }

                string Get(string key) => e.TryGetProperty(key, out JsonElement v) ? v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString() ?? string.Empty,
                    JsonValueKind.Number => v.GetRawText(),
                    JsonValueKind.Null => string.Empty,
                    _ => throw new VmInventoryFormatException(source, 0, $"entry {n}: '{key}' must be a string or a number"),
                }
                : string.Empty;
                vms.Add(Row($"{source} entry {n}", 0, Get("name"), Get("tenant"), Get("vni"), Get("inner_ip"), Get("inner_mac"), Get("role"), Get("hypervisor"), VmSource.Inventory));
            }

            return Build(vms, source);
        }
    }

    /// <summary>
    /// The VMs of libvirt domain XML files (<c>virsh dumpxml</c>): each domain's name and each interface's MAC, with
    /// its bridge (a Linux bridge or an Open vSwitch bridge, <c>&lt;virtualport type='openvswitch'/&gt;</c>). libvirt does
    /// not know the overlay: <paramref name="bridgeVnis"/> maps bridge names to VNIs where the deployment knows them; an
    /// interface on another bridge matches its MAC in any virtual network. A domain with several interfaces gives one
    /// entry per interface, all with the domain's name.
    /// </summary>
    /// <param name="files">Domain XML files.</param>
    /// <param name="bridgeVnis">Bridge name to VNI, or null.</param>
    /// <param name="hypervisor">The hypervisor the domains run on (default: none).</param>
    /// <returns>The inventory.</returns>
    /// <exception cref="VmInventoryFormatException">A file that is not a libvirt domain.</exception>
    public static VmInventory FromLibvirt(IEnumerable<string> files, IReadOnlyDictionary<string, uint>? bridgeVnis = null, string? hypervisor = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var vms = new List<VmInfo>();
        foreach (string file in files)
        {
            using var reader = new StreamReader(file);
            vms.AddRange(ParseLibvirtDomain(reader, file, bridgeVnis, hypervisor));
        }

        return Build(vms, "libvirt");
    }

    /// <summary>The interfaces of one libvirt domain's XML, as VMs (see <see cref="FromLibvirt"/>).</summary>
    /// <param name="reader">The XML text.</param>
    /// <param name="source">Its name, for errors.</param>
    /// <param name="bridgeVnis">Bridge name to VNI, or null.</param>
    /// <param name="hypervisor">The hypervisor, or null.</param>
    /// <returns>One VM per interface with a MAC.</returns>
    /// <exception cref="VmInventoryFormatException">Not a libvirt domain.</exception>
    public static IReadOnlyList<VmInfo> ParseLibvirtDomain(TextReader reader, string source, IReadOnlyDictionary<string, uint>? bridgeVnis = null, string? hypervisor = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        XDocument document;
        try
        {
            // No DTDs, no external entities: the XML is data, never a fetch.
            using var xml = XmlReader.Create(reader, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = 16 << 20 });
            document = XDocument.Load(xml, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new VmInventoryFormatException(source, e.LineNumber, $"not XML: {e.Message}", e);
        }

        XElement? domain = document.Root;
        if (domain is null || domain.Name.LocalName != "domain")
        {
            throw new VmInventoryFormatException(source, 1, $"not a libvirt domain (root element '{domain?.Name.LocalName}')");
        }

        string? name = domain.Element("name")?.Value.Trim();
        if (string.IsNullOrEmpty(name))
        {
            throw new VmInventoryFormatException(source, LineOf(domain), "the domain has no <name>");
        }

        var vms = new List<VmInfo>();
        foreach (XElement nic in domain.Element("devices")?.Elements("interface") ?? [])
        {
            string? macText = nic.Element("mac")?.Attribute("address")?.Value;
            if (macText is null)
            {
                continue; // libvirt assigns one at start; the XML of a defined domain may lack it
            }

            if (!VmInfo.TryParseMac(macText, out ulong mac))
            {
                throw new VmInventoryFormatException(source, LineOf(nic), $"bad MAC '{macText}'");
            }

            XElement? s = nic.Element("source");
            string? bridge = s?.Attribute("bridge")?.Value ?? s?.Attribute("network")?.Value ?? s?.Attribute("dev")?.Value;
            uint? vni = bridge is not null && bridgeVnis is not null && bridgeVnis.TryGetValue(bridge, out uint v) ? v : null;
            vms.Add(new VmInfo(name, VmSource.Libvirt) { Mac = mac, Bridge = bridge, Vni = vni, Hypervisor = hypervisor });
        }

        return vms;
    }

    private static int LineOf(XElement e) => e is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    private static VmInventory Build(List<VmInfo> vms, string source)
    {
        try
        {
            return new VmInventory(vms);
        }
        catch (ArgumentException e)
        {
            throw new VmInventoryFormatException(source, 0, e.Message, e);
        }
    }

    private static VmInfo Row(string source, int line, string name, string tenant, string vni, string ip, string mac, string role, string hypervisor, VmSource from)
    {
        if (name.Length == 0)
        {
            throw new VmInventoryFormatException(source, line, "a VM without a name");
        }

        uint? vniValue = null;
        if (vni.Length > 0)
        {
            if (!uint.TryParse(vni, NumberStyles.None, CultureInfo.InvariantCulture, out uint v) || v > 0xFFFFFF)
            {
                throw new VmInventoryFormatException(source, line, $"VM '{name}': bad VNI '{vni}' (0 to 16777215)");
            }

            vniValue = v;
        }

        IpAddress? address = null;
        byte version = 0;
        if (ip.Length > 0)
        {
            if (!IPAddress.TryParse(ip, out IPAddress? parsed))
            {
                throw new VmInventoryFormatException(source, line, $"VM '{name}': bad address '{ip}'");
            }

            address = IpAddress.From(parsed);
            version = parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4;
        }

        ulong macValue = 0;
        if (mac.Length > 0 && !VmInfo.TryParseMac(mac, out macValue))
        {
            throw new VmInventoryFormatException(source, line, $"VM '{name}': bad MAC '{mac}'");
        }

        if (address is null && macValue == 0)
        {
            throw new VmInventoryFormatException(source, line, $"VM '{name}' has neither an address nor a MAC");
        }

        return new VmInfo(name, from)
        {
            Tenant = NullIfEmpty(tenant),
            Vni = vniValue,
            Address = address,
            IpVersion = version,
            Mac = macValue,
            Role = NullIfEmpty(role),
            Hypervisor = NullIfEmpty(hypervisor),
            IsGateway = string.Equals(role, "gateway", StringComparison.OrdinalIgnoreCase),
        };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    // RFC 4180 fields: commas separate, double quotes quote, "" inside quotes is one quote.
    private static List<string> SplitCsv(string line, string source, int lineNumber)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw new VmInventoryFormatException(source, lineNumber, "a quoted field is not closed");
        }

        fields.Add(field.ToString());
        return fields;
    }
}
