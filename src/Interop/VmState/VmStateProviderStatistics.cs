// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.VmState;

/// <summary>What a file-reading VM state provider found and how its reads went.</summary>
/// <param name="Vms">VMs known at the last refresh.</param>
/// <param name="UnavailableFiles">Files of those VMs that could not be opened at the last refresh (a controller not
/// enabled, a process gone); their fields are not valid until a refresh opens them.</param>
/// <param name="ReadErrors">Reads of an open file that failed (the cgroup removed, the process exited).</param>
/// <param name="MalformedFiles">Reads whose content did not parse; the field is not valid in that sample.</param>
public readonly record struct VmStateProviderStatistics(int Vms, int UnavailableFiles, long ReadErrors, long MalformedFiles);
