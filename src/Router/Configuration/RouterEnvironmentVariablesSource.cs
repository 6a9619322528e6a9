using System.Collections;
using Microsoft.Extensions.Configuration;

namespace ComfyOperator.Router.Configuration;

/// <summary>
/// Reads <c>COMFY_ROUTER__*</c> environment variables into the <c>Router</c> section, accepting the
/// original Comfy Router names as written (<c>COMFY_ROUTER__PENDING_LIMIT</c> becomes
/// <c>Router:PendingLimit</c>) as well as .NET-style names (<c>COMFY_ROUTER__Router__PendingLimit</c>).
/// The plain <c>AddEnvironmentVariables(prefix)</c> would put <c>PENDING_LIMIT</c> at the root,
/// where nothing binds it.
/// </summary>
internal sealed class RouterEnvironmentVariablesSource(IDictionary? variables = null) : IConfigurationSource
{
    public const string Prefix = "COMFY_ROUTER__";

    public IConfigurationProvider Build(IConfigurationBuilder builder) =>
        new RouterEnvironmentVariablesProvider(variables);
}
