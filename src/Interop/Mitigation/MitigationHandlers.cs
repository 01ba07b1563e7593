// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Mitigation;

namespace FlowEngine.Interop.Mitigation;

/// <summary>Settings the handlers of <see cref="MitigationHandlers.Create"/> take beyond the spec string.</summary>
public sealed class MitigationHandlerSettings
{
    /// <summary>Options of the nftables handler.</summary>
    public NftablesHandlerOptions Nftables { get; set; } = new();

    /// <summary>Options of the tc handler (its devices; a spec "tc:DEV,DEV" adds to them).</summary>
    public TcHandlerOptions Tc { get; set; } = new();

    /// <summary>Buckets of the inline handler.</summary>
    public int InlineBuckets { get; set; } = 1024;
}

/// <summary>Makes a handler from the CLI's spec: dry-run, inline, nftables, or tc (tc:DEV[,DEV...] names its interfaces).</summary>
public static class MitigationHandlers
{
    /// <summary>The specs <see cref="Create"/> knows, for help texts.</summary>
    public const string Specs = "dry-run|inline|nftables|tc[:DEV,...]|webhook:URL";

    /// <summary>Creates the handler for a spec.</summary>
    /// <param name="spec">dry-run, inline, nftables, tc or tc:DEV[,DEV...], webhook:URL.</param>
    /// <param name="settings">Options of the handlers.</param>
    /// <returns>The handler (the inline one is also the <see cref="IFlowVerdict"/> to give the inline path).</returns>
    /// <exception cref="ArgumentException">Unknown spec.</exception>
    /// <exception cref="MitigationHandlerException">The handler cannot start (nft missing, not permitted).</exception>
    public static IMitigationHandler Create(string spec, MitigationHandlerSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        settings ??= new MitigationHandlerSettings();
        string[] parts = spec.Split(':', 2);
        string name = parts[0];
        string? argument = parts.Length == 2 ? parts[1] : null;
        return name switch
        {
            "dry-run" when argument is null => new DryRunMitigationHandler(),
            "inline" when argument is null => new InlineMitigationHandler(settings.InlineBuckets),
            "nftables" when argument is null => new NftablesMitigationHandler(settings.Nftables),
            "tc" => new TcMitigationHandler(new TcHandlerOptions
            {
                Devices = [.. settings.Tc.Devices, .. (argument ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                VmDevices = settings.Tc.VmDevices,
                NetworkNamespace = settings.Tc.NetworkNamespace,
                CommandTimeout = settings.Tc.CommandTimeout,
            }),
            "webhook" when Uri.TryCreate(argument, UriKind.Absolute, out Uri? url) && url.Scheme is "http" or "https" => new WebhookMitigationHandler(url),
            _ => throw new ArgumentException($"'{spec}' is not a mitigation handler ({Specs})", nameof(spec)),
        };
    }
}
