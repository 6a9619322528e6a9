namespace ComfyOperator.Operator;

internal static class OperatorProgram
{
    public static int Main(string[] args)
    {
        _ = args;
        return 0;
    }
}
