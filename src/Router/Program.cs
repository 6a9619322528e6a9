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
app.Run();

/// <summary>Entry point type, public so tests can host the router with WebApplicationFactory.</summary>
public partial class Program;
