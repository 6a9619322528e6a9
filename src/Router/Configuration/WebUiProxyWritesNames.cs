namespace ComfyOperator.Router.Configuration;

/// <summary>The values of <c>Router:WebUiProxyWrites</c>: who may send writes through to the front-end worker.</summary>
internal static class WebUiProxyWritesNames
{
    /// <summary>Every signed-in caller: editor extensions that post to their custom node's routes work for everyone.</summary>
    public const string Users = "users";

    /// <summary>Administrators only (the Basic user, configured keys, keys created with <c>admin</c>); others get 403.</summary>
    public const string Admins = "admins";

    /// <summary>Never: such writes answer 405, as a route the router does not serve.</summary>
    public const string Off = "off";

    public static IReadOnlyList<string> All { get; } = [Users, Admins, Off];
}
