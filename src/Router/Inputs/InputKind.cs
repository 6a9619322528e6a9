namespace ComfyOperator.Router.Inputs;

/// <summary>What a URL input is used as; decides the content types accepted for it.</summary>
internal enum InputKind
{
    Image,
    File,
    Model,
}
