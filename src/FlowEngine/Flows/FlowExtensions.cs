// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.Flows;

/// <summary>
/// Two extensions as one: <typeparamref name="TFirst"/>'s mask bits are the low ones, <typeparamref name="TSecond"/>'s
/// follow. Nest pairs for more (<c>FlowExtensions&lt;A, FlowExtensions&lt;B, C&gt;&gt;</c>). Each hook calls the
/// extensions in order, and an extension's packet hook only while its own bits are set.
/// </summary>
/// <typeparam name="TFirst">The first extension.</typeparam>
/// <typeparam name="TSecond">The second extension.</typeparam>
public struct FlowExtensions<TFirst, TSecond> : IFlowExtension
    where TFirst : struct, IFlowExtension
    where TSecond : struct, IFlowExtension
{
    // Not readonly: a hook may change its extension's fields, and a readonly field would make it run on a copy.
#pragma warning disable IDE0044
    private TFirst _first;
    private TSecond _second;
#pragma warning restore IDE0044

    /// <summary>Combines two extensions.</summary>
    /// <param name="first">The first (low mask bits).</param>
    /// <param name="second">The second.</param>
    public FlowExtensions(TFirst first, TSecond second)
    {
        if (first.MaskBits + second.MaskBits > 32)
        {
            throw new ArgumentException($"extensions need {first.MaskBits + second.MaskBits} mask bits; a flow has 32");
        }

        _first = first;
        _second = second;
    }

    /// <summary>The first extension.</summary>
    public readonly TFirst First => _first;

    /// <summary>The second extension.</summary>
    public readonly TSecond Second => _second;

    /// <inheritdoc/>
    public readonly int MaskBits => _first.MaskBits + _second.MaskBits;

    /// <inheritdoc/>
    public readonly bool WantsPackets => _first.WantsPackets || _second.WantsPackets;

    /// <inheritdoc/>
    public readonly bool WantsEmit => _first.WantsEmit || _second.WantsEmit;

    private readonly uint FirstMask => _first.MaskBits >= 32 ? uint.MaxValue : (1u << _first.MaskBits) - 1;

    // The second extension's bits moved above the first's, and back (C# shifts a uint by the count modulo 32).
    private readonly uint Up(uint second) => _first.MaskBits >= 32 ? 0 : second << _first.MaskBits;

    private readonly uint Down(uint mask) => _first.MaskBits >= 32 ? 0 : mask >> _first.MaskBits;

    /// <inheritdoc/>
    public void Initialize(in FlowExtensionContext context)
    {
        _first.Initialize(in context);
        _second.Initialize(in context);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint OnStart(int slot, in DecodedPacket firstPacket, ReadOnlySpan<byte> frame, bool firstFromOriginator)
    {
        uint a = _first.OnStart(slot, in firstPacket, frame, firstFromOriginator) & FirstMask;
        uint b = _second.OnStart(slot, in firstPacket, frame, firstFromOriginator);
        return a | Up(b);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint OnPacket(int slot, uint mask, in DecodedPacket packet, ReadOnlySpan<byte> frame, bool fromOriginator)
    {
        uint a = mask & FirstMask;
        uint b = Down(mask);
        if (_first.WantsPackets && a != 0)
        {
            a = _first.OnPacket(slot, a, in packet, frame, fromOriginator) & FirstMask;
        }

        if (_second.WantsPackets && b != 0)
        {
            b = _second.OnPacket(slot, b, in packet, frame, fromOriginator);
        }

        return a | Up(b);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnEmit(int slot, int recordIndex, in FlowRecord record)
    {
        if (_first.WantsEmit)
        {
            _first.OnEmit(slot, recordIndex, in record);
        }

        if (_second.WantsEmit)
        {
            _second.OnEmit(slot, recordIndex, in record);
        }
    }

    /// <inheritdoc/>
    public void OnDelivered(int count)
    {
        if (_first.WantsEmit)
        {
            _first.OnDelivered(count);
        }

        if (_second.WantsEmit)
        {
            _second.OnDelivered(count);
        }
    }
}
