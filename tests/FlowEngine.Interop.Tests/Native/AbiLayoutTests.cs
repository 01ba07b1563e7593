// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowEngine.Interop.Dpdk;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Tests.Native;

/// <summary>Every struct shared with the shim has the same size and field offsets on both sides.</summary>
[Trait("Category", "Native")]
public class AbiLayoutTests
{
    public static TheoryData<string> Kinds() => new() { "RxDesc", "PortConfig", "PortStats", "Link" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Struct_SizeAndOffsets_MatchShim(string kind)
    {
        ShimLoaded();
        (FlowShim.AbiKind abi, Type type, int size) = kind switch
        {
            "RxDesc" => (FlowShim.AbiKind.RxDesc, typeof(FlowShim.RxDesc), Unsafe.SizeOf<FlowShim.RxDesc>()),
            "PortConfig" => (FlowShim.AbiKind.PortConfig, typeof(FlowShim.PortConfig), Unsafe.SizeOf<FlowShim.PortConfig>()),
            "PortStats" => (FlowShim.AbiKind.PortStats, typeof(FlowShim.PortStats), Unsafe.SizeOf<FlowShim.PortStats>()),
            "Link" => (FlowShim.AbiKind.Link, typeof(FlowShim.Link), Unsafe.SizeOf<FlowShim.Link>()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Assert.Equal(FlowShim.AbiSizeOf(abi), size);

        System.Reflection.FieldInfo[] fields = type.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        int native = 0;
        while (FlowShim.AbiOffsetOf(abi, native) >= 0)
        {
            native++;
        }

        Assert.Equal(native, fields.Length);
        for (int i = 0; i < fields.Length; i++)
        {
            Assert.True(FlowShim.AbiOffsetOf(abi, i) == (int)Marshal.OffsetOf(type, fields[i].Name), $"{kind}.{fields[i].Name}: C offset {FlowShim.AbiOffsetOf(abi, i)}, C# offset {Marshal.OffsetOf(type, fields[i].Name)}");
        }
    }

    [Fact]
    public void UnknownKind_HasNoSize()
    {
        ShimLoaded();
        Assert.Equal(-1, FlowShim.AbiSizeOf((FlowShim.AbiKind)99));
        Assert.Equal(-1, FlowShim.AbiOffsetOf(FlowShim.AbiKind.RxDesc, 99));
    }

    [Fact]
    public void Version_IsDpdk2211() => Assert.StartsWith("DPDK 22.11", DpdkEal.Version);

    private static void ShimLoaded()
    {
        try
        {
            _ = DpdkEal.Version;
        }
        catch (DpdkException e)
        {
            Assert.Fail("The native shim is needed: run 'make -C native' (needs libdpdk-dev), then rebuild. " + e.Message);
        }
    }
}
