// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Capture;

/// <summary>Container format of a capture file, as identified by its magic bytes.</summary>
public enum CaptureFileFormat
{
    /// <summary>Classic libpcap format (microsecond or nanosecond timestamps, either byte order).</summary>
    Pcap = 1,

    /// <summary>pcapng (sections, several interfaces, enhanced/simple packet blocks).</summary>
    PcapNg = 2,
}
