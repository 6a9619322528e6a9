namespace ComfyOperator.Console.Tests.Support;

/// <summary>The console tests share one router and one browser.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleTestGroup : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
