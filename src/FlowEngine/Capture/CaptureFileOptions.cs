// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Capture;

/// <summary>Settings for <see cref="CaptureFile.Open"/>.</summary>
public sealed class CaptureFileOptions
{
    /// <summary>Largest captured length accepted for one packet; a larger one is reported as damage. Default: 262144 (libpcap's limit).</summary>
    public int MaxCapturedLength { get; set; } = 262144;

    /// <summary>
    /// Initial size of the decompression buffer for gzip-compressed files (4096 or more). Default: 1 MiB. The buffer
    /// grows only when a single record is larger; a batch holds at most what fits in it.
    /// </summary>
    public int DecompressionBufferBytes { get; set; } = 1 << 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCapturedLength, 1, nameof(MaxCapturedLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxCapturedLength, CaptureLimits.MaxBufferedBlockBytes / 2, nameof(MaxCapturedLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(DecompressionBufferBytes, 4096, nameof(DecompressionBufferBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DecompressionBufferBytes, CaptureLimits.MaxBufferedBlockBytes, nameof(DecompressionBufferBytes));
    }
}
