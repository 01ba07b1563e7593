// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;
using FlowEngine.Packets;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Context;

/// <summary>Inventory files: the lab's CSV, the same as JSON, libvirt domain XML, and every kind of bad file.</summary>
public sealed class VmInventoryTests
{
    private static string LabInventory => Path.Combine(Repository.Root(), "samples", "data", "lab-small.inventory.csv");

    [Fact]
    public void LabCsv_ReadsEveryRow_WithGatewaysMarked()
    {
        VmInventory inventory = VmInventory.Load(LabInventory);
        string[] lines = File.ReadAllLines(LabInventory).Skip(1).Where(l => l.Length > 0).ToArray();
        Assert.Equal(lines.Length, inventory.Vms.Count);
        for (int i = 0; i < lines.Length; i++)
        {
            string[] f = lines[i].Split(',');
            VmInfo vm = inventory.Vms[i];
            Assert.Equal(f[0], vm.Name);
            Assert.Equal(f[1], vm.Tenant);
            Assert.Equal(uint.Parse(f[2]), vm.Vni);
            Assert.Equal(f[3], vm.Address!.Value.ToString(vm.IpVersion));
            Assert.Equal(f[4], vm.MacText);
            Assert.Equal(f[5], vm.Role);
            Assert.Equal(f[6], vm.Hypervisor);
            Assert.Equal(f[5] == "gateway", vm.IsGateway);
            Assert.Equal(VmSource.Inventory, vm.Source);
        }
    }

    [Fact]
    public void Json_GivesTheSameVmsAsTheCsv()
    {
        VmInventory csv = VmInventory.Load(LabInventory);
        string json = "{\"vms\": [" + string.Join(",", csv.Vms.Select(v =>
            $"{{\"name\":\"{v.Name}\",\"tenant\":\"{v.Tenant}\",\"vni\":{v.Vni},\"inner_ip\":\"{v.Address!.Value.ToString(v.IpVersion)}\",\"inner_mac\":\"{v.MacText}\",\"role\":\"{v.Role}\",\"hypervisor\":\"{v.Hypervisor}\"}}")) + "]}";
        VmInventory parsed = VmInventory.ParseJson(new StringReader(json), "lab.json");
        Assert.Equal(csv.Vms.Select(Describe), parsed.Vms.Select(Describe));

        // A bare array, the VNI as a string, comments and a trailing comma are accepted too.
        VmInventory bare = VmInventory.ParseJson(new StringReader("[ // one VM\n {\"name\":\"a\",\"vni\":\"7\",\"inner_ip\":\"fd00::5\"},\n]"));
        Assert.Equal("a|7|fd00::5|6|", Describe(Assert.Single(bare.Vms)).Split('|').Take(4).Aggregate((x, y) => x + "|" + y) + "|");
    }

    [Fact]
    public void Csv_ColumnsInAnyOrder_ExtraColumnsAndCommentsIgnored_QuotedFields()
    {
        const string text = "inner_mac,extra,name,inner_ip,vni\n# a comment\n\n02:00:00:00:00:0A,x,\"web, the first\",10.1.0.5,42\n";
        VmInfo vm = Assert.Single(VmInventory.ParseCsv(new StringReader(text)).Vms);
        Assert.Equal("web, the first", vm.Name);
        Assert.Equal(42u, vm.Vni);
        Assert.Equal("02:00:00:00:00:0a", vm.MacText);
        Assert.Null(vm.Tenant);
    }

    [Theory]
    [InlineData("", 1, "empty file")]
    [InlineData("host,address\n", 1, "lacks name")]
    [InlineData("name,vni,inner_ip\nweb,5001,10.0.0.300\n", 2, "10.0.0.300")]
    [InlineData("name,vni,inner_ip\nweb,5001,10.0.0.1\nweb2,50x1,10.0.0.2\n", 3, "50x1")]
    [InlineData("name,vni,inner_ip\nweb,16777216,10.0.0.1\n", 2, "16777216")]
    [InlineData("name,vni,inner_mac\nweb,1,02:00:00:00:00\n", 2, "02:00:00:00:00")]
    [InlineData("name,vni,inner_ip\n,1,10.0.0.1\n", 2, "name")]
    [InlineData("name,vni,inner_ip\nweb,1,\n", 2, "neither an address nor a MAC")]
    [InlineData("name,vni,inner_ip\n\"web,1,10.0.0.1\n", 2, "quote")]
    [InlineData("name,vni,inner_ip\na,1,10.0.0.1\nb,1,10.0.0.1\n", 0, "10.0.0.1")]
    [InlineData("name,vni,inner_mac\na,1,02:00:00:00:00:01\nb,1,02:00:00:00:00:01\n", 0, "02:00:00:00:00:01")]
    public void BadCsv_NamesFileLineAndValue(string text, int line, string mention)
    {
        var e = Assert.Throws<VmInventoryFormatException>(() => VmInventory.ParseCsv(new StringReader(text), "inv.csv"));
        Assert.StartsWith(line > 0 ? $"inv.csv:{line}:" : "inv.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains(mention, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(line, e.Line);
    }

    [Theory]
    [InlineData("{", "not JSON")]
    [InlineData("{\"hosts\": []}", "array")]
    [InlineData("[1]", "entry 1")]
    [InlineData("[{\"name\":\"a\",\"vni\":[1],\"inner_ip\":\"10.0.0.1\"}]", "vni")]
    [InlineData("[{\"name\":\"a\",\"inner_ip\":\"not-an-ip\"}]", "not-an-ip")]
    public void BadJson_IsAClearError(string text, string mention)
    {
        var e = Assert.Throws<VmInventoryFormatException>(() => VmInventory.ParseJson(new StringReader(text), "inv.json"));
        Assert.Contains("inv.json", e.Message, StringComparison.Ordinal);
        Assert.Contains(mention, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_MissingFile_IsFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => VmInventory.Load(Path.Combine(Path.GetTempPath(), $"fe-none-{Guid.NewGuid():N}.csv")));

    // The shape of `virsh dumpxml` output (libvirt 9): a Linux bridge interface, an Open vSwitch one, and a NAT network.
    private const string Domain = """
        <domain type='kvm' id='3'>
          <name>acme-web1</name>
          <uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>
          <memory unit='KiB'>2097152</memory>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <interface type='bridge'>
              <mac address='52:54:00:6b:3c:58'/>
              <source bridge='br-acme'/>
              <target dev='vnet0'/>
              <model type='virtio'/>
            </interface>
            <interface type='bridge'>
              <mac address='52:54:00:6b:3c:59'/>
              <source bridge='ovs-tenants'/>
              <virtualport type='openvswitch'>
                <parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/>
              </virtualport>
              <target dev='vnet1'/>
            </interface>
            <interface type='network'>
              <mac address='52:54:00:00:00:01'/>
              <source network='default' bridge='virbr0'/>
            </interface>
          </devices>
        </domain>
        """;

    [Fact]
    public void Libvirt_EveryInterfaceBecomesAnEntry_BridgesMapToVnis()
    {
        string dir = Directory.CreateTempSubdirectory("fe-libvirt-").FullName;
        try
        {
            string file = Path.Combine(dir, "acme-web1.xml");
            File.WriteAllText(file, Domain);
            VmInventory inventory = VmInventory.FromLibvirt([file], new Dictionary<string, uint> { ["br-acme"] = 5001 }, "hv1");
            Assert.Equal(3, inventory.Vms.Count);
            Assert.All(inventory.Vms, v => Assert.Equal("acme-web1", v.Name));
            Assert.All(inventory.Vms, v => Assert.Equal("hv1", v.Hypervisor));
            Assert.All(inventory.Vms, v => Assert.Equal(VmSource.Libvirt, v.Source));
            Assert.Equal(["52:54:00:6b:3c:58", "52:54:00:6b:3c:59", "52:54:00:00:00:01"], inventory.Vms.Select(v => v.MacText));
            Assert.Equal(["br-acme", "ovs-tenants", "virbr0"], inventory.Vms.Select(v => v.Bridge));
            Assert.Equal([5001u, null, null], inventory.Vms.Select(v => v.Vni));

            // Load picks the XML reader by extension (without a bridge map: no VNIs). The MAC resolves a flow in VNI 5001, and in any VNI for the
            // bridge without one.
            var table = new VmIdentityTable(inventory);
            Assert.All(VmInventory.Load(file).Vms, v => Assert.Null(v.Vni));
            Assert.Equal("acme-web1", table.Find(new VirtualNetworkId(VirtualNetworkKind.Vxlan, 5001), IpAddress.From(System.Net.IPAddress.Parse("10.0.0.11")), 4, 0x5254006b3c58, out _)?.Name);
            Assert.Equal("acme-web1", table.Find(new VirtualNetworkId(VirtualNetworkKind.Geneve, 77), IpAddress.From(System.Net.IPAddress.Parse("10.9.0.1")), 4, 0x5254006b3c59, out _)?.Name);
            Assert.Null(table.Find(new VirtualNetworkId(VirtualNetworkKind.Vxlan, 5002), IpAddress.From(System.Net.IPAddress.Parse("10.0.0.11")), 4, 0x5254006b3c58, out _));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("<network><name>default</name></network>", "domain")]
    [InlineData("<domain><name>x</name><devices><interface type='bridge'><mac address='zz'/></interface></devices></domain>", "zz")]
    [InlineData("<domain><devices/></domain>", "name")]
    [InlineData("<domain><name>x</name>", "XML")]
    [InlineData("<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain><name>&x;</name></domain>", "DTD")]
    public void Libvirt_BadXml_IsAClearError_AndNoEntityIsResolved(string xml, string mention)
    {
        var e = Assert.Throws<VmInventoryFormatException>(() => VmInventory.ParseLibvirtDomain(new StringReader(xml), "dom.xml").ToList());
        Assert.Contains("dom.xml", e.Message, StringComparison.Ordinal);
        Assert.Contains(mention, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("root:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Macs_ParseAndFormat_BothSeparators_AndRejectGarbage()
    {
        Assert.True(VmInfo.TryParseMac("02-00-13-89-00-0B", out ulong mac));
        Assert.Equal(0x02001389000BUL, mac);
        Assert.Equal("02:00:13:89:00:0b", VmInfo.FormatMac(mac));
        foreach (string bad in new[] { "", "02:00:13:89:00", "02:00:13:89:00:0g", "02:00:13:89:00:0b:11", "0200.1389.000b", "02:00:13:89:00-0b" })
        {
            Assert.False(VmInfo.TryParseMac(bad, out _), bad);
        }
    }

    private static string Describe(VmInfo v) => $"{v.Name}|{v.Vni}|{v.Address?.ToString(v.IpVersion)}|{v.IpVersion}|{v.MacText}|{v.Tenant}|{v.Role}|{v.Hypervisor}|{v.IsGateway}";
}
