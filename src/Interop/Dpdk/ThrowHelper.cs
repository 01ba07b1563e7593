// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static FlowEngine.Interop.Native.Interop;

namespace FlowEngine.Interop.Dpdk;

/// <summary>Cold throw paths of the DPDK wrappers.</summary>
internal static class ThrowHelper
{
    /// <summary>Throws for a failed shim call, with the shim's message for the calling thread.</summary>
    [DoesNotReturn]
    internal static void ThrowNativeError(int rc, string operation, DpdkFailure failure = DpdkFailure.NativeCall) =>
        throw CreateNativeError(rc, operation, failure);

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static unsafe DpdkException CreateNativeError(int rc, string operation, DpdkFailure failure)
    {
        string detail = Marshal.PtrToStringUTF8((nint)FlowShim.LastError()) ?? string.Empty;
        if (detail.Length == 0)
        {
            detail = $"error {rc}";
        }

        return new DpdkException(failure, rc, $"{operation}: {detail} (errno {-rc})");
    }
}
