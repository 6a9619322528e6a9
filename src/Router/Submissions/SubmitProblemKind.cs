namespace ComfyOperator.Router.Submissions;

internal enum SubmitProblemKind
{
    /// <summary>The graph is not a valid API-format graph.</summary>
    Graph,

    /// <summary>The graph uses a node class that no worker has.</summary>
    UnknownNodeClass,

    /// <summary>The graph is in the editor's UI format, not the API format.</summary>
    UiFormat,

    /// <summary>A request field (priority, idempotency key, metadata, webhook) is wrong.</summary>
    Request,

    /// <summary>A workflow input value breaks its rule.</summary>
    Input,

    /// <summary>An input file or URL was refused (scheme, address, size, unknown cache file).</summary>
    InputRefused,
}
