// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Mitigation;

/// <summary>
/// Enforces mitigation actions: in the engine, in the kernel (nftables, tc), or by telling an orchestrator. The
/// <see cref="MitigationController"/> calls it after its safety checks, from one thread at a time.
/// </summary>
/// <remarks>
/// <see cref="Apply"/> and <see cref="Revert"/> are idempotent: applying an action twice leaves one rule, reverting
/// one that is not there does nothing. They return promptly (a handler that talks to a remote service queues).
/// <see cref="IDisposable.Dispose"/> removes everything the handler put in place.
/// </remarks>
public interface IMitigationHandler : IDisposable
{
    /// <summary>The handler's name in the audit log (inline, nftables, tc, ...).</summary>
    string Name { get; }

    /// <summary>Puts an action in force.</summary>
    /// <param name="action">The action.</param>
    /// <exception cref="MitigationHandlerException">The handler cannot enforce it (unsupported, or the tool failed).</exception>
    void Apply(MitigationRequest action);

    /// <summary>Removes an action (by its <see cref="MitigationRequest.Key"/>).</summary>
    /// <param name="action">The action.</param>
    /// <exception cref="MitigationHandlerException">The tool failed.</exception>
    void Revert(MitigationRequest action);
}

/// <summary>A handler could not apply or revert an action; the controller audits it as failed.</summary>
public sealed class MitigationHandlerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MitigationHandlerException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public MitigationHandlerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The cause.</param>
    public MitigationHandlerException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The handler of dry-run: enforces nothing (the controller audits what would have been done).</summary>
public sealed class DryRunMitigationHandler : IMitigationHandler
{
    /// <inheritdoc/>
    public string Name => "dry-run";

    /// <inheritdoc/>
    public void Apply(MitigationRequest action)
    {
    }

    /// <inheritdoc/>
    public void Revert(MitigationRequest action)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
