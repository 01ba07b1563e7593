// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace FlowEngine.Benchmarks.Interop;

/// <summary>
/// The benchmark baselines of the native shim: loops in C that only benchmarks call, built by <c>make -C native</c>
/// into build/libflowshim_bench.so (the shim's sources with -DFE_BENCH) and never shipped in libflowshim.so.
/// </summary>
internal static partial class BenchShim
{
    private const string Library = "libflowshim_bench";

    /// <summary>
    /// Iterations bursts of up to burst frames received and freed by a loop in C (describe 1: through fe_rx_burst's
    /// own code, descriptors and folded free included). Returns the frames received or a negative errno.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "fe_bench_rx_free_loop")]
    internal static partial long BenchRxFreeLoop(ushort portId, ushort queueId, ushort burst, long iterations, byte describe);

    /// <summary>
    /// A ring port's replay: iterations bursts received through fe_rx_burst's own code and sent back on the same port
    /// and queue, looped in C. Returns the frames sent back or a negative errno.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "fe_bench_rx_tx_loop")]
    internal static partial long BenchRxTxLoop(ushort portId, ushort queueId, ushort burst, long iterations);
}
