// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FlowEngine.Flows.Internal;

/// <summary>The flow tables' default hash seed: random, once per process.</summary>
internal static class FlowHashSeed
{
    /// <summary>The process's seed.</summary>
    public static readonly uint Process = Create();

    private static uint Create()
    {
        Span<byte> b = stackalloc byte[4];
        RandomNumberGenerator.Fill(b);
        return MemoryMarshal.Read<uint>(b);
    }
}
