// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Dpdk;

/// <summary>What went wrong in a <see cref="DpdkException"/>.</summary>
public enum DpdkFailure
{
    /// <summary>A DPDK call returned an error (see <see cref="DpdkException.ErrorCode"/>).</summary>
    NativeCall,

    /// <summary>libflowshim.so was not found: build it with <c>make -C native</c>, or install the FlowEngine.Interop package.</summary>
    ShimMissing,

    /// <summary>libflowshim.so was found but a DPDK library it needs (librte_*.so.23) was not: install DPDK 22.11.</summary>
    DpdkLibrariesMissing,

    /// <summary>rte_eal_init failed (arguments, memory, permissions), or EAL was already initialised in this process.</summary>
    EalInit,

    /// <summary>EAL is not initialised yet.</summary>
    EalNotInitialized,

    /// <summary>No DPDK port has the requested name, or a virtual device could not be attached.</summary>
    PortNotFound,
}
