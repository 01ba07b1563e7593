// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Flows;

/// <summary>What a <see cref="IFlowExtension"/> learns about its table when it is initialised.</summary>
/// <param name="Capacity">Slots of the table: every slot index is below this.</param>
/// <param name="RecordBatchSize">Most records delivered to the sink in one batch: every record index is below this.</param>
public readonly record struct FlowExtensionContext(int Capacity, int RecordBatchSize);
