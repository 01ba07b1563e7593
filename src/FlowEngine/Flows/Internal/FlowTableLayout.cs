// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

namespace FlowEngine.Flows.Internal;

/// <summary>Sizes of a flow table's columns, the same for every extension type.</summary>
internal static class FlowTableLayout
{
    /// <summary>Bytes per slot: tag, key and state, cold state, the wheel's two links, and an eighth of a bucket's overflow count rounded up.</summary>
    public static int BytesPerSlot => sizeof(uint) + Unsafe.SizeOf<FlowEntry>() + Unsafe.SizeOf<FlowColdState>() + (2 * sizeof(int)) + 1;
}
