// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Export.Siem;

/// <summary>Who sends the alerts and how long a text field may grow: shared by the ECS, CEF and webhook writers.</summary>
public sealed class SiemExportOptions
{
    /// <summary>The sensor's name (ECS observer.name and observer.hostname, syslog HOSTNAME, CEF dvchost). Default: the machine name.</summary>
    public string ObserverName { get; init; } = Environment.MachineName;

    /// <summary>ECS observer.vendor and CEF Device Vendor.</summary>
    public string Vendor { get; init; } = "FlowEngine";

    /// <summary>ECS observer.product and CEF Device Product.</summary>
    public string Product { get; init; } = "FlowEngine Sensor";

    /// <summary>ECS observer.version and CEF Device Version.</summary>
    public string ProductVersion { get; init; } = typeof(SiemExportOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The ECS version the documents declare (ecs.version).</summary>
    public string EcsVersion { get; init; } = "8.11.0";

    /// <summary>Most UTF-16 chars of one text value (a VM name, an evidence rule) before it is cut; at least 16.</summary>
    public int MaxFieldChars { get; init; } = 1024;

    /// <summary>Most evidence items written per alert (the rest are counted in flowengine.alert.evidence_omitted).</summary>
    public int MaxEvidence { get; init; } = 32;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFieldChars, 16);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxEvidence);
        ArgumentException.ThrowIfNullOrWhiteSpace(ObserverName);
        ArgumentException.ThrowIfNullOrWhiteSpace(Vendor);
        ArgumentException.ThrowIfNullOrWhiteSpace(Product);
        ArgumentException.ThrowIfNullOrWhiteSpace(ProductVersion);
    }

    /// <summary>Cuts a value to <see cref="MaxFieldChars"/>, never between the halves of a surrogate pair.</summary>
    internal string Cut(string value)
    {
        if (value.Length <= MaxFieldChars)
        {
            return value;
        }

        int n = MaxFieldChars;
        if (char.IsHighSurrogate(value[n - 1]))
        {
            n--;
        }

        return value[..n];
    }
}
