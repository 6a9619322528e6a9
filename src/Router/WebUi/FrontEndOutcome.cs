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
}
