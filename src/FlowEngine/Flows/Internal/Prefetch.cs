// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace FlowEngine.Flows.Internal;

/// <summary>Software prefetch hints for the batch stages: frame headers, flow table buckets and slots.</summary>
internal static unsafe class Prefetch
{
    /// <summary>Asks the CPU to bring the cache line holding <paramref name="location"/> into all cache levels.</summary>
    /// <remarks>
    /// Invariant: callers pass native memory or elements of arrays allocated pinned (<c>GC.AllocateArray(pinned: true)</c>), so
    /// the address cannot move between taking it and the hint; a prefetch never faults in any case.
    /// Without SSE (Arm) this is a no-op: .NET has no portable prefetch instruction.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Line<T>(ref T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref location));
        }
    }

    /// <summary>Prefetches the lines spanned by <paramref name="bytes"/> bytes starting at <paramref name="location"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Range<T>(ref T location, int bytes)
    {
        if (Sse.IsSupported)
        {
            byte* p = (byte*)Unsafe.AsPointer(ref location);
            byte* end = p + bytes - 1;
            for (byte* line = (byte*)((nuint)p & ~(nuint)63); line <= end; line += 64)
            {
                Sse.Prefetch0(line);
            }
        }
    }
}
