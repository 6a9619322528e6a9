namespace ComfyOperator.Install.Tests;

/// <summary>One Dockerfile instruction (continuation lines joined), e.g. ("RUN", "dotnet publish ...").</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments);
