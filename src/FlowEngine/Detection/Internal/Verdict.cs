// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;
using FlowEngine.Packets;

namespace FlowEngine.Detection.Internal;

/// <summary>The strongest class offered for one flow so far, with up to four pieces of evidence; a value, no allocation.</summary>
internal struct Verdict
{
    public AttackClass Class;
    public double Confidence;
    public IpAddress Target;
    public bool HasTarget;
    public bool TargetIsDomain;
    public int Evidence;
    public EvidenceItems Items;

    /// <summary>Takes the offer when it is more confident than what is held; returns whether it did.</summary>
    public bool Offer(AttackClass c, double confidence, IpAddress target, bool hasTarget)
    {
        if (confidence <= Confidence)
        {
            return false;
        }

        Class = c;
        Confidence = Math.Min(1, confidence);
        Target = target;
        HasTarget = hasTarget;
        TargetIsDomain = false;
        Evidence = 0;
        return true;
    }

    public void Add(string rule, double value, double threshold)
    {
        if (Evidence < EvidenceItems.Length)
        {
            Items[Evidence++] = new AlertEvidence(rule, value, threshold);
        }
    }

    public readonly AlertEvidence[] ToArray(ReadOnlySpan<AlertEvidence> more)
    {
        var all = new AlertEvidence[Evidence + more.Length];
        for (int i = 0; i < Evidence; i++)
        {
            all[i] = Items[i];
        }

        more.CopyTo(all.AsSpan(Evidence));
        return all;
    }

    [InlineArray(Length)]
    internal struct EvidenceItems
    {
        public const int Length = 4;
        private AlertEvidence _element;
    }
}

/// <summary>Counts in a tumbling window with the key's learned level of its earlier windows.</summary>
internal struct WindowLevel
{
    public long Start;
    public double Level;
    public bool HasLevel;
    public bool Alerted;

    /// <summary>Starts a new window when <paramref name="nowNs"/> left the current one; returns true when it did.</summary>
    /// <param name="nowNs">Packet time.</param>
    /// <param name="windowNs">Window length.</param>
    /// <param name="closedCount">The count of the window being closed, learned into the level (less when it alerted).</param>
    /// <param name="alpha">Weight of the newest window.</param>
    public bool Roll(long nowNs, long windowNs, double closedCount, double alpha)
    {
        if (Start != 0 && nowNs - Start < windowNs)
        {
            return false;
        }

        if (Start != 0)
        {
            // A window that alerted is learned at a quarter of the weight: an attack does not become normal at once,
            // but behaviour that persists does. Windows without traffic in between count as zero.
            double weight = Alerted ? alpha / 4 : alpha;
            long idle = Math.Max(0, ((nowNs - Start) / windowNs) - 1);
            Level = HasLevel ? Level + (weight * (closedCount - Level)) : (Alerted ? weight * closedCount : closedCount);
            Level *= Math.Pow(1 - alpha, Math.Min(idle, 64));
            HasLevel = true;
        }

        Start = nowNs;
        Alerted = false;
        return true;
    }

    /// <summary>The count a window must reach: the floor, or the learned level times the factor.</summary>
    public readonly double Threshold(double floor, double factor) => HasLevel ? Math.Max(floor, factor * Level) : floor;
}
