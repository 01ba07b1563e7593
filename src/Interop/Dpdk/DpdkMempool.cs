// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>A pool of packet buffers (struct rte_mempool), created by <see cref="DpdkEal.CreateMempool"/>.</summary>
public sealed class DpdkMempool : IDisposable
{
    internal DpdkMempool(SafeMempoolHandle handle, string name, int capacity)
    {
        Handle = handle;
        Name = name;
        Capacity = capacity;
    }

    /// <summary>The pool's name.</summary>
    public string Name { get; }

    /// <summary>Buffers the pool was created with.</summary>
    public int Capacity { get; }

    /// <summary>Buffers in the pool now (ring plus per-lcore caches); Capacity minus the buffers handed out.</summary>
    public int AvailableCount
    {
        get
        {
            int n = FlowShim.MempoolAvail(Handle);
            if (n < 0)
            {
                ThrowHelper.ThrowNativeError(n, $"counting buffers of mempool {Name}");
            }

            return n;
        }
    }

    internal SafeMempoolHandle Handle { get; }

    /// <summary>Frees the pool. Stop and close the ports that use it first.</summary>
    public void Dispose() => Handle.Dispose();
}
