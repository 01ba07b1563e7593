// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Interop.Dpdk;

/// <summary>A DPDK or shim failure, with its reason and, for native calls, the negative errno.</summary>
public sealed class DpdkException : Exception
{
    /// <summary>Creates an exception.</summary>
    public DpdkException()
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    public DpdkException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DpdkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="failure">What went wrong.</param>
    /// <param name="errorCode">Negative errno of the failed call, or 0.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, if any.</param>
    public DpdkException(DpdkFailure failure, int errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        ErrorCode = errorCode;
    }

    /// <summary>What went wrong.</summary>
    public DpdkFailure Failure { get; }

    /// <summary>Negative errno returned by the failed call (as DPDK returns them), or 0.</summary>
    public int ErrorCode { get; }
}
