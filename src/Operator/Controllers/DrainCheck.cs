namespace ComfyOperator.Operator.Controllers;

/// <summary>What <see cref="NodeDrainer"/> found: whether a cordoned worker may be removed now.</summary>
internal enum DrainCheck
{
    /// <summary>Idle since the router saw the cordon (or nothing of ours can run on it): remove it.</summary>
    Drained,

    /// <summary>Still running or holding prompts, or the router has not seen the cordon yet.</summary>
    Busy,

    /// <summary>The router did not answer: wait (up to the grace period), never guess.</summary>
    Unknown,
}
