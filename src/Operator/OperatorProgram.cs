using ComfyOperator.Operator.Cli;

namespace ComfyOperator.Operator;

internal static class OperatorProgram
{
    public static Task<int> Main(string[] args) => OperatorCommands.Build().Parse(args).InvokeAsync();
}
