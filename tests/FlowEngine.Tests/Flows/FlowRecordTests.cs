// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Reflection;
using System.Runtime.CompilerServices;
using FlowEngine.Flows;
using FlowEngine.Tests.Infrastructure;

namespace FlowEngine.Tests.Flows;

public class FlowRecordTests
{
    [Fact]
    public void FlowRecord_IsBlittable()
    {
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<FlowRecord>());
    }

    [Fact]
    public void FlowRecordDoc_DocumentsEveryPublicField()
    {
        string doc = File.ReadAllText(Path.Combine(Repository.Root(), "docs", "flow-record.md"));
        string[] missing = typeof(FlowRecord).GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Select(f => f.Name)
            .Where(name => !doc.Contains($"| `{name}` |", StringComparison.Ordinal))
            .ToArray();
        Assert.True(missing.Length == 0, "docs/flow-record.md lacks: " + string.Join(", ", missing));
    }
}
