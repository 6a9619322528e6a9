namespace ComfyOperator.Testing.Kubernetes;

/// <summary>One Table column: CRD additionalPrinterColumns entry or a built-in column.</summary>
internal sealed record PrinterColumn(string Name, string Type, string? Format, string Description, int Priority, string JsonPath);
