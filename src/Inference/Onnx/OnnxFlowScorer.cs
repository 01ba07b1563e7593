// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Inference.Model;
using Microsoft.ML.OnnxRuntime;

namespace FlowEngine.Inference.Onnx;

/// <summary>
/// Runs a flow model's GRU step for many VMs in one ONNX Runtime call. Each VM has a slot (0 ..
/// <see cref="VmCapacity"/> − 1) holding its hidden state and the prediction of its next flow, in contiguous
/// arrays outside the model. Inputs and outputs are pinned buffers bound once per batch size, so a step
/// allocates no managed memory once every batch size in use has been seen.
/// </summary>
/// <remarks>
/// Per batch of flows: <see cref="Score"/> each flow against its VM's stored prediction (the prediction made
/// before it), write the rows into <see cref="InputRows"/>, then <see cref="Step"/> to advance the VMs. A VM may
/// appear once per step. Not thread-safe: one scorer per worker.
/// </remarks>
public sealed class OnnxFlowScorer : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly FlowModelSpec _spec;
    private readonly int _hs, _ins, _d;
    private readonly float[] _state;
    private readonly float[] _prediction;
    private readonly bool[] _hasPrediction;
    private readonly int[] _stamp;
    private int _generation;
    private readonly float[] _x, _hIn, _hOut;
    private readonly (string Name, int Offset, int Width, float[] Buffer)[] _outputs;
    private readonly Binding?[] _bindings;
    private bool _disposed;

    /// <summary>Creates a scorer with one ONNX Runtime session.</summary>
    /// <param name="model">A loaded model.</param>
    /// <param name="vmCapacity">Number of VM slots.</param>
    /// <param name="maxBatch">Most VMs advanced by one <see cref="Step"/>.</param>
    /// <param name="options">Session options; by default one intra-op thread and all graph optimisations.</param>
    public OnnxFlowScorer(FlowModel model, int vmCapacity, int maxBatch, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(vmCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _spec = model.Spec;
        _hs = _spec.HiddenSize;
        _ins = _spec.InputWidth;
        _d = _spec.OutputWidth;
        VmCapacity = vmCapacity;
        MaxBatch = maxBatch;
        if (options is null)
        {
            using var defaults = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            _session = new InferenceSession(model.Bytes, defaults);
        }
        else
        {
            _session = new InferenceSession(model.Bytes, options);
        }

        _state = new float[vmCapacity * _hs];
        _prediction = new float[vmCapacity * _d];
        _hasPrediction = new bool[vmCapacity];
        _stamp = new int[vmCapacity];
        _x = GC.AllocateArray<float>(maxBatch * _ins, pinned: true);
        _hIn = GC.AllocateArray<float>(maxBatch * _hs, pinned: true);
        _hOut = GC.AllocateArray<float>(maxBatch * _hs, pinned: true);
        var outputs = new List<(string, int, int, float[])>();
        for (int i = 0; i < _spec.CategoricalHeads.Count; i++)
        {
            CategoricalHead head = _spec.CategoricalHeads[i];
            outputs.Add((FlowModelFormat.LogitsOutput(head.Name), _spec.LogitsOffset(i), head.Classes, GC.AllocateArray<float>(maxBatch * head.Classes, pinned: true)));
        }

        for (int i = 0; i < _spec.GaussianHeads.Count; i++)
        {
            string head = _spec.GaussianHeads[i];
            outputs.Add((FlowModelFormat.MeanOutput(head), _spec.GaussianOffset(i), 1, GC.AllocateArray<float>(maxBatch, pinned: true)));
            outputs.Add((FlowModelFormat.LogVarianceOutput(head), _spec.GaussianOffset(i) + 1, 1, GC.AllocateArray<float>(maxBatch, pinned: true)));
        }

        _outputs = [.. outputs];
        _bindings = new Binding?[maxBatch + 1];
    }

    /// <summary>Model shape.</summary>
    public FlowModelSpec Spec => _spec;

    /// <summary>Number of VM slots.</summary>
    public int VmCapacity { get; }

    /// <summary>Most VMs advanced by one step.</summary>
    public int MaxBatch { get; }

    /// <summary>
    /// The pinned input rows of the next <see cref="Step"/>: <paramref name="count"/> rows of
    /// <see cref="FlowModelSpec.InputWidth"/> normalised features, row i for the VM at <c>vms[i]</c>. Features are
    /// assembled straight into it.
    /// </summary>
    /// <param name="count">Rows of the next step.</param>
    /// <returns>The rows, row-major.</returns>
    public Span<float> InputRows(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)MaxBatch, nameof(count));
        return _x.AsSpan(0, count * _ins);
    }

    /// <summary>Hidden state of a VM (zero until its first step); writable, to restore a saved state.</summary>
    /// <param name="vm">VM slot.</param>
    /// <returns>The state, <see cref="FlowModelSpec.HiddenSize"/> wide.</returns>
    public Span<float> State(int vm) => _state.AsSpan(vm * _hs, _hs);

    /// <summary>Whether a VM has taken a step, so that <see cref="Prediction"/> holds a prediction of its next flow.</summary>
    /// <param name="vm">VM slot.</param>
    /// <returns><see langword="true"/> after the VM's first step.</returns>
    public bool HasPrediction(int vm) => _hasPrediction[vm];

    /// <summary>
    /// The head outputs of the VM's last step (the prediction of its next flow), in <see cref="FlowModelSpec"/>
    /// output layout; read probabilities with <see cref="FlowScoring.Probabilities"/>.
    /// </summary>
    /// <param name="vm">VM slot.</param>
    /// <returns>The outputs, <see cref="FlowModelSpec.OutputWidth"/> wide.</returns>
    public ReadOnlySpan<float> Prediction(int vm) => _prediction.AsSpan(vm * _d, _d);

    /// <summary>Forgets a VM: zero state, no prediction (a new VM in a reused slot).</summary>
    /// <param name="vm">VM slot.</param>
    public void Reset(int vm)
    {
        State(vm).Clear();
        _prediction.AsSpan(vm * _d, _d).Clear();
        _hasPrediction[vm] = false;
    }

    /// <summary>
    /// Deviation score of a VM's observed flow under the prediction made at its previous step: the NLL in nats,
    /// with per-head components. NaN (components 0) when the VM has no prediction yet.
    /// </summary>
    /// <param name="vm">VM slot.</param>
    /// <param name="classes">Observed class per categorical head (negative: unknown yet).</param>
    /// <param name="values">Observed value per Gaussian head (NaN: unknown yet).</param>
    /// <param name="components">Per-head NLL out, <see cref="FlowModelSpec.HeadCount"/> wide, or empty.</param>
    /// <returns>The score.</returns>
    public float Score(int vm, ReadOnlySpan<int> classes, ReadOnlySpan<float> values, Span<float> components)
    {
        if (!_hasPrediction[vm])
        {
            components.Clear();
            return float.NaN;
        }

        return FlowScoring.Score(_spec, Prediction(vm), classes, values, components);
    }

    /// <summary>
    /// Advances <c>vms.Length</c> VMs by one flow each, in one ONNX Runtime run over the rows in
    /// <see cref="InputRows"/>: their states become the GRU's new states and their predictions the heads' outputs.
    /// </summary>
    /// <param name="vms">Distinct VM slots, one per input row.</param>
    /// <exception cref="ArgumentException">A slot repeats or is out of range, or there are too many.</exception>
    public void Step(ReadOnlySpan<int> vms)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int count = vms.Length;
        if (count == 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxBatch, nameof(vms));
        int generation = ++_generation;
        if (generation == int.MaxValue)
        {
            Array.Clear(_stamp);
            _generation = generation = 1;
        }

        for (int i = 0; i < count; i++)
        {
            int vm = vms[i];
            if ((uint)vm >= (uint)VmCapacity)
            {
                throw new ArgumentException($"VM slot {vm} is outside 0..{VmCapacity - 1}.", nameof(vms));
            }

            if (_stamp[vm] == generation)
            {
                throw new ArgumentException($"VM slot {vm} appears twice in one step.", nameof(vms));
            }

            _stamp[vm] = generation;
            _state.AsSpan(vm * _hs, _hs).CopyTo(_hIn.AsSpan(i * _hs, _hs));
        }

        Binding binding = _bindings[count] ??= CreateBinding(count);
        _session.RunWithBinding(_runOptions, binding.IoBinding);

        for (int i = 0; i < count; i++)
        {
            int vm = vms[i];
            _hOut.AsSpan(i * _hs, _hs).CopyTo(_state.AsSpan(vm * _hs, _hs));
            Span<float> prediction = _prediction.AsSpan(vm * _d, _d);
            foreach ((string _, int offset, int width, float[] buffer) in _outputs)
            {
                buffer.AsSpan(i * width, width).CopyTo(prediction.Slice(offset, width));
            }

            _hasPrediction[vm] = true;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (Binding? b in _bindings)
        {
            b?.Dispose();
        }

        _session.Dispose();
        _runOptions.Dispose();
    }

    private Binding CreateBinding(int count)
    {
        var values = new List<OrtValue>();
        OrtIoBinding io = _session.CreateIoBinding();
        OrtValue Bind(float[] buffer, int length, long[] shape)
        {
            OrtValue v = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(buffer, 0, length), shape);
            values.Add(v);
            return v;
        }

        io.BindInput(FlowModelFormat.InputRows, Bind(_x, count * _ins, [count, _ins]));
        io.BindInput(FlowModelFormat.InputState, Bind(_hIn, count * _hs, [1, count, _hs]));
        io.BindOutput(FlowModelFormat.OutputState, Bind(_hOut, count * _hs, [1, count, _hs]));
        foreach ((string name, int _, int width, float[] buffer) in _outputs)
        {
            io.BindOutput(name, Bind(buffer, count * width, [count, width]));
        }

        return new Binding(io, [.. values]);
    }

    private sealed class Binding(OrtIoBinding io, OrtValue[] values) : IDisposable
    {
        public OrtIoBinding IoBinding { get; } = io;

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (OrtValue v in values)
            {
                v.Dispose();
            }
        }
    }
}
