// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.Tests.Infrastructure;

namespace FlowEngine.Interop.Tests.Native;

/// <summary>
/// The shipped libflowshim.so exports its API (native/include/fe_shim.h) and nothing else: the ring ports of the
/// tests are in libflowshim_testing.so, the benchmark baselines in libflowshim_bench.so, neither packed. Read with
/// <c>nm -D</c>, as a consumer's loader sees the libraries.
/// </summary>
[Trait("Category", "Native")]
public class ShimExportsTests
{
    /// <summary>What FlowEngine.Interop binds (src/Interop/Native), and so what the package must export.</summary>
    private static readonly string[] s_production =
    [
        "fe_abi_offsetof", "fe_abi_sizeof", "fe_eal_cleanup", "fe_eal_init", "fe_last_error", "fe_lcore_id",
        "fe_mbuf_free_bulk", "fe_mempool_avail", "fe_mempool_create", "fe_mempool_free", "fe_port_close",
        "fe_port_configure", "fe_port_count", "fe_port_find", "fe_port_link_get", "fe_port_queue_ipackets",
        "fe_port_socket_id", "fe_port_start", "fe_port_stats_get", "fe_port_stats_reset", "fe_port_stop",
        "fe_rx_burst", "fe_socket_count", "fe_socket_id_get", "fe_thread_register", "fe_thread_unregister",
        "fe_tx_burst", "fe_vdev_attach", "fe_vdev_detach", "fe_version_get",
    ];

    private static readonly string[] s_testing = ["fe_mbuf_load", "fe_ring_port_create", "fe_ring_port_destroy", "fe_testing_last_error"];

    private static readonly string[] s_bench = ["fe_bench_rx_free_loop", "fe_bench_rx_tx_loop"];

    [Fact]
    public void ShippedShim_ExportsItsApiAndNoTestOrBenchmarkFunction()
    {
        SortedSet<string> exports = DefinedExports(Path.Combine(AppContext.BaseDirectory, "libflowshim.so"));

        foreach (string name in s_testing.Concat(s_bench))
        {
            Assert.False(exports.Contains(name), $"libflowshim.so exports {name}, a test or benchmark function");
        }

        // Exactly the API: a new export is a decision, made here as well as in fe_shim.h.
        Assert.Equal(s_production.Order(StringComparer.Ordinal), exports);
    }

    [Fact]
    public void TestingLibrary_ExportsTheRingPortsOnly()
    {
        SortedSet<string> exports = DefinedExports(Path.Combine(AppContext.BaseDirectory, "libflowshim_testing.so"));
        Assert.Equal(s_testing.Order(StringComparer.Ordinal), exports);
    }

    /// <summary>The symbols a library defines in its dynamic symbol table (nm -D --defined-only).</summary>
    private static SortedSet<string> DefinedExports(string library)
    {
        Assert.True(File.Exists(library), $"{library} is missing: run 'make -C native', then rebuild");
        string output = ProcessRunner.Run("nm", ["-D", "--defined-only", "--format=posix", library], TimeSpan.FromSeconds(60));
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // POSIX format: "name type value size".
            names.Add(line.Split(' ')[0]);
        }

        Assert.NotEmpty(names);
        return names;
    }
}
