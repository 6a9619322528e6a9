using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ComfyOperator.Router.Workflows;

/// <summary>
/// Adds every workflow's run operation (<c>POST /v1/workflows/{name}/runs</c> with its typed inputs)
/// to the router's main OpenAPI document, so <c>/docs</c> lists them all. Each comes from the same
/// per-workflow document <c>/v1/workflows/{name}/openapi.json</c> serves.
/// </summary>
internal sealed class WorkflowsDocumentTransformer(WorkflowCatalog catalog) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        document.Paths ??= [];
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var workflow in catalog.All.Where(w => w.IsValid))
        {
            var json = WorkflowOpenApi.Document(workflow).ToJsonString();
            var read = OpenApiDocument.Parse(json, "json");
            if (read.Document is not { } parsed)
            {
                continue;
            }

            foreach (var (path, item) in parsed.Paths)
            {
                document.Paths[path] = item;
            }

            foreach (var (name, schema) in parsed.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            {
                document.Components.Schemas.TryAdd(name, schema);
            }
        }

        return Task.CompletedTask;
    }
}
