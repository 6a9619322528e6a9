using ComfyOperator.Comfy.Sessions;
using ComfyOperator.Router.Configuration;
using ComfyOperator.Router.Nodes;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Scheduling;

/// <summary>Makes each <see cref="RunAttempt"/> with what attempts share: the run transitions, prompt preparation, output storage, abandoned prompts, worker sessions, the feed of worker messages and the dispatch queue (woken when a prompt ends).</summary>
internal sealed class RunAttemptFactory(
    IRunTransitions runs,
    IPromptPreparer prompts,
    IRunOutputWriter outputs,
    IAbandonedPrompts abandoned,
    IWorkerSessions sessions,
    WorkerMessageFeed feed,
    DispatchQueue queue,
    IOptions<RouterOptions> options,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<Dispatcher>();

    public RunAttempt Create(RunRecord run, RunGraph? graph, WorkerState worker, ComfySession session) =>
        new(run, graph, worker, session, runs, prompts, outputs, abandoned, sessions, feed, queue, options.Value, time, _logger);
}
