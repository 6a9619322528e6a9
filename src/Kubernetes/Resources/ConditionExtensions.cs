using k8s.Models;

namespace ComfyOperator.Kubernetes.Resources;

/// <summary><c>meta.SetStatusCondition</c> and friends over a list of the official client's <see cref="V1Condition"/>.</summary>
public static class ConditionExtensions
{
    public static V1Condition? FindCondition(this IEnumerable<V1Condition>? conditions, string type) =>
        conditions?.FirstOrDefault(c => string.Equals(c.Type, type, StringComparison.Ordinal));

    public static bool IsConditionTrue(this IEnumerable<V1Condition>? conditions, string type) =>
        conditions.FindCondition(type)?.Status == ConditionStatus.True;

    /// <summary>
    /// Adds or updates the condition of that type. <c>lastTransitionTime</c> is stamped with
    /// <paramref name="now"/> when the condition is new or its status flips (unless the caller set
    /// one); otherwise only reason, message and observedGeneration change.
    /// Returns true when anything changed, so callers can skip a no-op status write.
    /// </summary>
    public static bool SetCondition(this IList<V1Condition> conditions, V1Condition condition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentNullException.ThrowIfNull(condition);
        var existing = conditions.FindCondition(condition.Type);
        if (existing is null)
        {
            conditions.Add(new V1Condition
            {
                Type = condition.Type,
                Status = condition.Status,
                ObservedGeneration = condition.ObservedGeneration,
                LastTransitionTime = Truncate(condition.LastTransitionTime == default ? now.UtcDateTime : condition.LastTransitionTime),
                Reason = condition.Reason,
                Message = condition.Message,
            });
            return true;
        }

        var changed = false;
        if (!string.Equals(existing.Status, condition.Status, StringComparison.Ordinal))
        {
            existing.Status = condition.Status;
            existing.LastTransitionTime = Truncate(condition.LastTransitionTime == default ? now.UtcDateTime : condition.LastTransitionTime);
            changed = true;
        }

        if (!string.Equals(existing.Reason, condition.Reason, StringComparison.Ordinal))
        {
            existing.Reason = condition.Reason;
            changed = true;
        }

        if (!string.Equals(existing.Message, condition.Message, StringComparison.Ordinal))
        {
            existing.Message = condition.Message;
            changed = true;
        }

        if (existing.ObservedGeneration != condition.ObservedGeneration)
        {
            existing.ObservedGeneration = condition.ObservedGeneration;
            changed = true;
        }

        return changed;
    }

    /// <summary>Shorthand for <see cref="SetCondition(IList{V1Condition}, V1Condition, DateTimeOffset)"/>.</summary>
    public static bool SetCondition(
        this IList<V1Condition> conditions,
        string type,
        string status,
        string reason,
        string message,
        long? observedGeneration,
        DateTimeOffset now) =>
        conditions.SetCondition(
            new V1Condition { Type = type, Status = status, Reason = reason, Message = message, ObservedGeneration = observedGeneration },
            now);

    /// <summary>Removes the condition of that type; true when it was there.</summary>
    public static bool RemoveCondition(this IList<V1Condition> conditions, string type)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var existing = conditions.FindCondition(type);
        return existing is not null && conditions.Remove(existing);
    }

    // metav1.Time has second precision; keeping the in-memory value the same as what the server
    // returns avoids spurious diffs between a freshly set condition and its read-back.
    private static DateTime Truncate(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }
}
