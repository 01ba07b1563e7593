// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlowEngine.Flows.Internal;

/// <summary>
/// One zeroed, aligned block of native memory holding a flow table's columns. On Linux, blocks of 2 MiB or more
/// are 2 MiB-aligned and advised MADV_HUGEPAGE, so transparent huge pages back them where the kernel allows: a
/// table of a million flows spans about 250 MB, and with 4 KiB pages nearly every lookup would also miss the TLB.
/// </summary>
/// <remarks>
/// Invariant: the block is owned by this object and freed exactly once, by <see cref="Dispose"/> or the finalizer;
/// columns carved from it (<see cref="NativeColumn{T}"/>) are valid while the owning table holds this object.
/// </remarks>
internal sealed unsafe partial class NativeRegion : IDisposable
{
    private const nuint HugePage = 2 * 1024 * 1024;
    private const int MadvHugePage = 14;

    private void* _base;
    private nuint _used;

    public NativeRegion(nuint bytes)
    {
        nuint alignment = bytes >= HugePage ? HugePage : 64;
        Length = (bytes + alignment - 1) & ~(alignment - 1);
        _base = NativeMemory.AlignedAlloc(Length, alignment);
        if (alignment == HugePage)
        {
            HugePages = AdviseHugePages(_base, Length);
        }

        // Touching every page now faults it in (as huge pages where advised), so the hot path never takes a
        // page fault, and the columns start zeroed.
        NativeMemory.Clear(_base, Length);
        GC.AddMemoryPressure((long)Length);
    }

    ~NativeRegion() => Free();

    public nuint Length { get; }

    /// <summary>True when the kernel accepted the huge-page advice for this block.</summary>
    public bool HugePages { get; }

    /// <summary>
    /// Advises the kernel to back the 2 MiB-aligned interior of [<paramref name="start"/>, +<paramref name="length"/>)
    /// with transparent huge pages (Linux, MADV_HUGEPAGE); pages touched afterwards are faulted in as huge pages where
    /// the kernel allows. Returns false where that is not possible (other systems, no libc, a refusal).
    /// </summary>
    /// <remarks>Caller must ensure: the range is memory this process owns and will not move (native or pinned).</remarks>
    internal static bool AdviseHugePages(void* start, nuint length)
    {
        nuint first = ((nuint)start + HugePage - 1) & ~(HugePage - 1);
        nuint end = ((nuint)start + length) & ~(HugePage - 1);
        if (!OperatingSystem.IsLinux() || end <= first)
        {
            return false;
        }

        try
        {
            return Madvise((void*)first, end - first, MadvHugePage) == 0;
        }
        catch (DllNotFoundException)
        {
            // No libc under that name: ordinary pages.
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Carves the next column of <paramref name="count"/> elements, 64-byte aligned.</summary>
    public NativeColumn<T> Column<T>(int count)
        where T : unmanaged
    {
        nuint start = (_used + 63) & ~(nuint)63;
        nuint bytes = (nuint)count * (nuint)sizeof(T);
        if (start + bytes > Length)
        {
            throw new InvalidOperationException("Flow table region is too small for its columns.");
        }

        _used = start + bytes;
        return new NativeColumn<T>((T*)((byte*)_base + start), count);
    }

    /// <summary>Bytes needed for columns of these element sizes and counts, with their alignment.</summary>
    public static nuint Size(params (int ElementSize, int Count)[] columns)
    {
        nuint total = 0;
        foreach ((int size, int count) in columns)
        {
            total = ((total + 63) & ~(nuint)63) + ((nuint)size * (nuint)count);
        }

        return total;
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_base != null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
            GC.RemoveMemoryPressure((long)Length);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}

/// <summary>A column of a <see cref="NativeRegion"/>: indexing without bounds checks.</summary>
/// <remarks>Caller must ensure: indices are below <see cref="Length"/>, and the region outlives every use.</remarks>
internal readonly unsafe struct NativeColumn<T>
    where T : unmanaged
{
    private readonly T* _items;

    public NativeColumn(T* items, int length)
    {
        _items = items;
        Length = length;
    }

    public int Length { get; }

    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _items[index];
    }

    public Span<T> AsSpan() => new(_items, Length);
}
