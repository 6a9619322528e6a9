namespace ComfyOperator.Router.WebUi;

/// <summary>What <see cref="FrontEndProxy"/> did with a request.</summary>
internal enum FrontEndOutcome
{
    /// <summary>A worker's answer was sent (any status but 404).</summary>
    Served,

    /// <summary>The front-end worker has no such file; nothing was sent.</summary>
    NotFound,

    /// <summary>No healthy worker answered; nothing was sent.</summary>
    Unavailable,

    /// <summary>A write's worker failed it (a 5xx, or no answer once it had the body); nothing was sent, and no other worker was tried.</summary>
    Failed,

    /// <summary>A write's body is over <c>Router:WebUiProxyMaxBodyBytes</c>; nothing was sent.</summary>
    TooLarge,
}
