// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Context;
using FlowEngine.Context.Profiles;
using FlowEngine.Flows;
using FlowEngine.Inference.Model;
using FlowEngine.Inference.Training;

namespace FlowEngine.Inference.Features;

/// <summary>
/// Every VM's flows as rows and targets, gathered from emitted records (<see cref="Add"/> in a sink) and put in
/// start-time order per VM by <see cref="Sequences"/>: what the trainer learns from and what an offline replay scores.
/// Bounded: rows beyond <see cref="MaxRows"/> are counted in <see cref="RowsDropped"/>, never silently lost.
/// </summary>
public sealed class FlowDataset
{
    private readonly Dictionary<string, List<Entry>> _byVm = new(StringComparer.Ordinal);
    private readonly FlowClock _clock;
    private readonly int _nc = FeatureSchema.CategoricalHeads.Count;
    private readonly int _ng = FeatureSchema.GaussianHeads.Count;

    /// <summary>An empty dataset.</summary>
    /// <param name="clock">Local time for the time columns (one per thread).</param>
    /// <param name="maxRows">Rows kept at most (392 bytes each and their targets). Default 2,000,000.</param>
    public FlowDataset(FlowClock? clock = null, int maxRows = 2_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        _clock = clock ?? new FlowClock();
        MaxRows = maxRows;
    }

    /// <summary>Rows kept at most.</summary>
    public int MaxRows { get; }

    /// <summary>Rows kept.</summary>
    public int Rows { get; private set; }

    /// <summary>Rows not kept because <see cref="MaxRows"/> was reached.</summary>
    public long RowsDropped { get; private set; }

    /// <summary>VMs with at least one row.</summary>
    public int VmCount => _byVm.Count;

    /// <summary>Adds the record's row for each end that is a VM.</summary>
    /// <param name="record">The flow.</param>
    /// <param name="context">Its context.</param>
    public void Add(in FlowRecord record, in FlowContext context)
    {
        if (context.Vms.Source is VmInfo source)
        {
            AddRow(source.Name, in record, in context, FlowPerspective.Originator);
        }

        if (context.Vms.Destination is VmInfo destination && !ReferenceEquals(destination, context.Vms.Source))
        {
            AddRow(destination.Name, in record, in context, FlowPerspective.Responder);
        }
    }

    /// <summary>Each VM's flows in start-time order (ties by end time, then as added).</summary>
    /// <returns>The sequences, by VM name.</returns>
    public IReadOnlyList<VmFlowSequence> Sequences()
    {
        var result = new List<VmFlowSequence>(_byVm.Count);
        foreach ((string vm, List<Entry> entries) in _byVm.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Entry[] sorted = [.. entries.Select((e, i) => (e, i)).OrderBy(x => x.e.StartNs).ThenBy(x => x.e.EndNs).ThenBy(x => x.i).Select(x => x.e)];
            int n = sorted.Length;
            float[] rows = new float[n * FeatureSchema.Width];
            int[] classes = new int[n * _nc];
            float[] values = new float[n * _ng];
            long[] starts = new long[n];
            FlowRecord[] records = new FlowRecord[n];
            for (int t = 0; t < n; t++)
            {
                sorted[t].Row.CopyTo(rows, t * FeatureSchema.Width);
                sorted[t].Classes.CopyTo(classes, t * _nc);
                sorted[t].Values.CopyTo(values, t * _ng);
                starts[t] = sorted[t].StartNs;
                records[t] = sorted[t].Record;
            }

            result.Add(new VmFlowSequence(vm, rows, classes, values, starts, records, sorted.Select(e => e.Perspective).ToArray()));
        }

        return result;
    }

    /// <summary>
    /// Training sequences for a model of <paramref name="spec"/>: every VM's rows normalised by
    /// <paramref name="normalizer"/> and cut into chunks of at most <paramref name="chunk"/> flows (so the trainer's
    /// held-out split takes stretches of every VM, not whole VMs).
    /// </summary>
    /// <param name="spec">The model's shape (input width must be the schema's).</param>
    /// <param name="normalizer">Normalisation.</param>
    /// <param name="chunk">Flows per training sequence.</param>
    /// <returns>The sequences.</returns>
    public IReadOnlyList<FlowSequence> TrainingSequences(FlowModelSpec spec, FeatureNormalizer normalizer, int chunk = 128)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(normalizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 2);
        var list = new List<FlowSequence>();
        foreach (VmFlowSequence s in Sequences())
        {
            normalizer.Normalize(s.Rows);
            for (int t = 0; t < s.Length; t += chunk)
            {
                int n = Math.Min(chunk, s.Length - t);
                if (n < 2)
                {
                    continue;
                }

                list.Add(new FlowSequence(
                    spec,
                    s.Rows.AsSpan(t * FeatureSchema.Width, n * FeatureSchema.Width).ToArray(),
                    s.Classes.AsSpan(t * _nc, n * _nc).ToArray(),
                    s.Values.AsSpan(t * _ng, n * _ng).ToArray()));
            }
        }

        return list;
    }

    /// <summary>Normalisation constants fitted on every row.</summary>
    /// <returns>Mean and deviation per column.</returns>
    public (float[] Mean, float[] Std) FitNormalization()
    {
        float[] all = new float[Rows * FeatureSchema.Width];
        int at = 0;
        foreach (List<Entry> entries in _byVm.Values)
        {
            foreach (Entry e in entries)
            {
                e.Row.CopyTo(all, at);
                at += FeatureSchema.Width;
            }
        }

        return FeatureNormalizer.Fit(all, FeatureSchema.Width);
    }

    private void AddRow(string vm, in FlowRecord record, in FlowContext context, FlowPerspective perspective)
    {
        if (Rows >= MaxRows)
        {
            RowsDropped++;
            return;
        }

        var e = new Entry(record.FirstNs, record.LastNs, new float[FeatureSchema.Width], new int[_nc], new float[_ng], record, perspective);
        FlowFeatures.Assemble(in record, in context, perspective, _clock, e.Row);
        FlowFeatures.Targets(in record, in context, perspective, e.Classes, e.Values);
        if (!_byVm.TryGetValue(vm, out List<Entry>? list))
        {
            _byVm[vm] = list = [];
        }

        list.Add(e);
        Rows++;
    }

    private sealed record Entry(long StartNs, long EndNs, float[] Row, int[] Classes, float[] Values, FlowRecord Record, FlowPerspective Perspective);
}

/// <summary>One VM's flows in start-time order: rows (raw until normalised), targets, start times, records.</summary>
/// <param name="Vm">The VM's name.</param>
/// <param name="Rows">Rows, row-major, <see cref="FeatureSchema.Width"/> wide.</param>
/// <param name="Classes">Categorical targets per flow.</param>
/// <param name="Values">Gaussian targets per flow.</param>
/// <param name="StartNs">Start time per flow.</param>
/// <param name="Records">The flow records.</param>
/// <param name="Perspectives">Whether the VM originated or answered each flow.</param>
public sealed record VmFlowSequence(string Vm, float[] Rows, int[] Classes, float[] Values, long[] StartNs, FlowRecord[] Records, FlowPerspective[] Perspectives)
{
    /// <summary>Flows.</summary>
    public int Length => StartNs.Length;
}
