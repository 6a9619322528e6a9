using ComfyOperator.Router.ComfyApi;
using ComfyOperator.Router.Runs;
using ComfyOperator.Router.Scheduling;
using ComfyOperator.Router.Storage;
using ComfyOperator.Router.Tests.Support;
using Microsoft.Extensions.Options;

namespace ComfyOperator.Router.Tests.ComfyApi;

public sealed class ComfyPromptsTests
{
    /// <summary>
    /// <c>/queue</c> reads the unfinished runs from the store, then drops those whose end was sent. A run whose end is
    /// written between the two must not come back: once the client was told the prompt ended, it stays out of its queue
    /// (else a client that looks at <c>/queue</c> on the end's <c>status</c>, as the npm comfyui-sdk does, finds it running).
    /// </summary>
    [Fact]
    public void EndSent_TheRunEndedInTheRouterAfterwards_StaysTrue()
    {
        var feed = new WorkerMessageFeed();
        var prompts = new ComfyPrompts(feed, TimeProvider.System, Options.Create(new StoreOptions()));
        prompts.Track("run-1", "client", "owner");
        Assert.False(prompts.EndSent("run-1"));

        feed.PublishSucceeded("run-1", []);
        Assert.True(prompts.EndSent("run-1"));

        prompts.OnEvent(StoreRecords.NewRun("run-1", null, "owner") with { Status = RunStatus.Succeeded }, StoreRecords.Event("run-1", 5, RunEventTypes.Succeeded));
        Assert.False(prompts.Follows("run-1"));
        Assert.True(prompts.EndSent("run-1"));
        Assert.False(prompts.EndSent("run-2"));
    }
}
