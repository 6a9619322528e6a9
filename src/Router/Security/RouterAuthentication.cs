namespace ComfyOperator.Router.Security;

/// <summary>Names shared by the authentication handler and the endpoint wiring.</summary>
internal static class RouterAuthentication
{
    public const string Scheme = "ComfyRouter";

    public const string Realm = "comfy-router";
}
