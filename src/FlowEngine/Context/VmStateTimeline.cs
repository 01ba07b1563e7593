// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Context;

/// <summary>
/// A recorded VM state timeline (docs/vm-state.md), for replay: answers <see cref="TryGetState"/> for a packet's time
/// from the VM's last sample at or before that time and the one before it, so a replay sees the state a live sensor
/// saw at that moment. Read-only after loading, so any number of threads may ask at once.
/// </summary>
/// <remarks>
/// Lines of one VM may come in any order in the file (a recorder that merges several sources need not sort); they are
/// sorted by time on loading. Two lines of one VM with the same time are an error, as are a wrong header, a field that
/// is not a non-negative integer, a missing VM name and a line with the wrong number of fields: each gives a
/// <see cref="VmStateFormatException"/> naming the file and line.
/// </remarks>
public sealed class VmStateTimeline : IVmStateSource
{
    private readonly Dictionary<string, VmResourceSample[]> _series;

    private VmStateTimeline(Dictionary<string, VmResourceSample[]> series, long samples)
    {
        _series = series;
        SampleCount = samples;
        VmNames = [.. series.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The VMs that have samples, in ordinal order.</summary>
    public IReadOnlyList<string> VmNames { get; }

    /// <summary>Samples in the timeline.</summary>
    public long SampleCount { get; }

    /// <summary>Reads a timeline file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The timeline.</returns>
    /// <exception cref="VmStateFormatException">The file cannot be opened or read, or its content is malformed.</exception>
    public static VmStateTimeline Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return Parse(reader, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VmStateFormatException(path, 0, $"cannot read the timeline: {e.Message}", e);
        }
    }

    /// <summary>Reads a timeline from text.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">What to call it in errors (a file name).</param>
    /// <returns>The timeline.</returns>
    /// <exception cref="VmStateFormatException">The content is malformed.</exception>
    public static VmStateTimeline Parse(TextReader reader, string source = "timeline")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var lists = new Dictionary<string, List<(VmResourceSample Sample, int Line)>>(StringComparer.Ordinal);
        string? header = reader.ReadLine();
        if (header is null)
        {
            throw new VmStateFormatException(source, 1, $"empty file: expected the header '{VmStateTimelineWriter.Header}'");
        }

        if (header.Trim() != VmStateTimelineWriter.Header)
        {
            throw new VmStateFormatException(source, 1, $"expected the header '{VmStateTimelineWriter.Header}', found '{Shorten(header)}'");
        }

        int lineNumber = 1;
        long samples = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan().TrimEnd('\r');
            if (text.IsWhiteSpace())
            {
                continue;
            }

            (string vm, VmResourceSample sample) = ParseLine(text, source, lineNumber);
            if (!lists.TryGetValue(vm, out var list))
            {
                lists[vm] = list = [];
            }

            list.Add((sample, lineNumber));
            samples++;
        }

        var series = new Dictionary<string, VmResourceSample[]>(lists.Count, StringComparer.Ordinal);
        foreach ((string vm, var list) in lists)
        {
            // Stable, so that equal times keep file order and the duplicate reported is the later line.
            var sorted = list.OrderBy(s => s.Sample.TimeNs).ToArray();
            for (int i = 1; i < sorted.Length; i++)
            {
                if (sorted[i].Sample.TimeNs == sorted[i - 1].Sample.TimeNs)
                {
                    throw new VmStateFormatException(source, Math.Max(sorted[i].Line, sorted[i - 1].Line),
                        $"VM '{vm}' has two samples at time_ns {sorted[i].Sample.TimeNs} (lines {Math.Min(sorted[i].Line, sorted[i - 1].Line)} and {Math.Max(sorted[i].Line, sorted[i - 1].Line)})");
                }
            }

            series[vm] = [.. sorted.Select(s => s.Sample)];
        }

        return new VmStateTimeline(series, samples);
    }

    /// <summary>The samples of <paramref name="vmName"/> in time order; empty when it has none.</summary>
    /// <param name="vmName">The VM's name.</param>
    /// <returns>The samples.</returns>
    public ReadOnlySpan<VmResourceSample> SamplesOf(string vmName)
        => vmName is not null && _series.TryGetValue(vmName, out VmResourceSample[]? s) ? s : [];

    /// <inheritdoc/>
    /// <remarks>
    /// From the VM's last sample at or before <paramref name="timeNs"/> and the one before it (a binary search; no
    /// allocation). False before the VM's first sample.
    /// </remarks>
    public bool TryGetState(string vmName, long timeNs, out VmResourceState state)
    {
        ReadOnlySpan<VmResourceSample> samples = SamplesOf(vmName);
        int lo = 0, hi = samples.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (samples[mid].TimeNs <= timeNs)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0)
        {
            state = default;
            return false;
        }

        bool hasPrevious = found > 0;
        VmResourceSample previous = hasPrevious ? samples[found - 1] : default;
        state = VmResourceState.FromSamples(in previous, hasPrevious, in samples[found], timeNs);
        return true;
    }

    private static (string Vm, VmResourceSample Sample) ParseLine(ReadOnlySpan<char> text, string source, int line)
    {
        Span<Range> fields = stackalloc Range[7];
        int count = text.Split(fields, ',');
        if (count != 6)
        {
            throw new VmStateFormatException(source, line, $"expected 6 fields ({VmStateTimelineWriter.Header}), found {(count > 6 ? "more" : count.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        }

        ReadOnlySpan<char> vm = text[fields[1]].Trim();
        if (vm.IsEmpty)
        {
            throw new VmStateFormatException(source, line, "the vm field is empty");
        }

        if (!TryField(text[fields[0]], out long time) || time == long.MinValue)
        {
            throw new VmStateFormatException(source, line, $"time_ns is not an integer: '{Shorten(text[fields[0]])}'");
        }

        VmResourceFields valid = VmResourceFields.None;
        long cpu = Counter(text[fields[2]], "cpu_ns", VmResourceFields.Cpu, ref valid, source, line);
        long memory = Counter(text[fields[3]], "memory_bytes", VmResourceFields.Memory, ref valid, source, line);
        long read = Counter(text[fields[4]], "disk_read_bytes", VmResourceFields.DiskRead, ref valid, source, line);
        long write = Counter(text[fields[5]], "disk_write_bytes", VmResourceFields.DiskWrite, ref valid, source, line);
        return (vm.ToString(), new VmResourceSample(time, valid, cpu, memory, read, write));
    }

    private static long Counter(ReadOnlySpan<char> field, string name, VmResourceFields bit, ref VmResourceFields valid, string source, int line)
    {
        field = field.Trim();
        if (field.IsEmpty)
        {
            return 0;
        }

        if (!TryField(field, out long value) || value < 0)
        {
            throw new VmStateFormatException(source, line, $"{name} is not a non-negative integer: '{Shorten(field)}'");
        }

        valid |= bit;
        return value;
    }

    private static bool TryField(ReadOnlySpan<char> field, out long value)
        => long.TryParse(field.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out value);

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 60 ? text.ToString() : string.Concat(text[..60], "...");
}
