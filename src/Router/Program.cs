using ComfyOperator.Observability.Logging;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Hosting;

var builder = WebApplication.CreateBuilder(args);
((IConfigurationBuilder)builder.Configuration).Add(new RouterEnvironmentVariablesSource());
builder.WebHost.ConfigureKestrel((context, kestrel) => RouterHosting.ConfigureKestrel(context.Configuration, kestrel));
builder.Logging.AddComfyLogging(builder.Configuration);
builder.Services.AddComfyRouter();

var app = builder.Build();
app.UseComfyRouter();

// Not app.Run(), which disposes the host when the start fails (a bad setting): undisposed, the failure
// ends the process all the same, and a host running this entry point on another thread
// (WebApplicationFactory, whose start reads the host's services) reports it instead of an
// ObjectDisposedException when this thread gets there first.
await app.StartAsync();
await app.WaitForShutdownAsync();
await app.DisposeAsync();

/// <summary>Entry point type, public so tests can host the router with WebApplicationFactory.</summary>
public partial class Program;
