using ComfyOperator.Router.Configuration;
using Microsoft.AspNetCore.Http;

namespace ComfyOperator.Router.Security;

/// <summary>Names and rules shared by the authentication handler and the endpoint wiring.</summary>
internal static class RouterAuthentication
{
    public const string Scheme = "ComfyRouter";

    public const string Realm = "comfy-router";

    /// <summary>The authorization policy of the routes that manage workers and keys.</summary>
    public const string AdminPolicy = "comfy-admin";

    /// <summary>
    /// Claim the handler adds to administrators: the Basic user and the keys from the configuration or
    /// the keys file (whoever deploys the router), and keys created with <c>admin: true</c>.
    /// </summary>
    public const string AdminClaim = "comfy.admin";

    /// <summary>Who the caller's runs belong to (<c>RunOwner</c>): the key's id, or <c>user-NAME</c> for Basic.</summary>
    public const string OwnerClaim = "comfy.owner";

    /// <summary>
    /// Whether the caller may act on the workers themselves through ComfyUI's routes (<c>POST /free</c>, the workers'
    /// administrative routes): an administrator, or anyone when <c>Router:ComfyApiAnonymous</c> opens those routes.
    /// </summary>
    public static bool IsComfyAdministrator(HttpContext context, RouterOptions options) =>
        options.ComfyApiAnonymous || context.User.HasClaim(AdminClaim, "true");
}
