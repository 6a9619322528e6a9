using ComfyOperator.Router.Keys;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Security;
using ComfyOperator.Router.UserData;
using ComfyOperator.Router.Webhooks;
using ComfyOperator.Router.Workers;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>The stores of one open router database; disposing closes the database.</summary>
internal sealed class StoreSession(
    IRunStore runs,
    IWebhookStore webhooks,
    IAbandonedPromptStore abandonedPrompts,
    INodeStore nodes,
    IApiKeyStore apiKeys,
    IUsageStore usage,
    IUserFileStore userFiles,
    IDataProtectionKeyStore dataProtectionKeys,
    IAsyncDisposable database) : IAsyncDisposable
{
    public IRunStore Runs { get; } = runs;

    public IWebhookStore Webhooks { get; } = webhooks;

    public IAbandonedPromptStore AbandonedPrompts { get; } = abandonedPrompts;

    public INodeStore Nodes { get; } = nodes;

    public IApiKeyStore ApiKeys { get; } = apiKeys;

    public IUsageStore Usage { get; } = usage;

    public IUserFileStore UserFiles { get; } = userFiles;

    public IDataProtectionKeyStore DataProtectionKeys { get; } = dataProtectionKeys;

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
