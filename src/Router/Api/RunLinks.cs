namespace ComfyOperator.Router.Api;

/// <summary>Where to go next for a run.</summary>
internal sealed record RunLinks(string Self, string Events, string Preview, string Cancel);
