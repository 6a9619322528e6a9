using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Router.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.ComfyApi;

/// <summary>
/// ComfyUI answers <c>POST /prompt</c> before it sends anything of the prompt, and clients rely on it: the npm
/// <c>@saintno/comfyui-sdk</c>'s <c>CallWrapper</c> starts listening for the prompt's id once it has the answer, and
/// waits for ever for a prompt whose messages all came before. The router posts the prompt to a worker before it
/// answers, so a fast prompt can be over by then; here the answer is held until the test lets it go.
/// </summary>
public sealed class ComfyPromptAnswerTests
{
    [Fact]
    public async Task PostPrompt_PromptOverBeforeTheAnswerIsWritten_ItsMessagesFollowTheAnswer()
    {
        var answers = new HeldPromptAnswers();
        await using var cluster = await SimulatedCluster.StartAsync(1, services: s => s.AddSingleton<IStartupFilter>(answers));
        await using var ws = await ComfyWsClient.ConnectAsync(cluster.Router, "answer-first");
        var promptId = Guid.NewGuid().ToString("D");

        var queued = ComfyApiTests.QueuePromptAsync(cluster.Client, Graphs.Sd15("answered first", 2), ws.ClientId, promptId: promptId);

        // The worker runs the prompt to its end and the router stores it while the answer waits (the run is not
        // there until the submission has stored it).
        await Wait.UntilAsync(
            async () =>
            {
                using var run = await cluster.Client.GetAsync($"/v1/runs/{promptId}");
                return run.IsSuccessStatusCode && (await run.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() == "succeeded";
            },
            TimeSpan.FromSeconds(60),
            "the prompt's run to succeed");
        await ws.RoundTripAsync();
        Assert.False(queued.IsCompleted);
        Assert.DoesNotContain(promptId, ws.PromptIds());
        var status = Assert.Single(ws.Messages, m => m.Type == "status");
        Assert.NotNull(status.Data!["sid"]);

        answers.Release();
        Assert.Equal(promptId, await queued);
        await ws.WaitForDoneAsync(promptId);
        var types = ws.Messages.Where(m => m.Data?["prompt_id"]?.GetValue<string>() == promptId).Select(m => m.Type).ToList();
        Assert.Equal("execution_start", types[0]);
        Assert.Contains("executed", types);
        Assert.Equal(["execution_success", "executing"], types.TakeLast(2));
        Assert.Contains(ws.Messages, m => m.Type == "status" && m.Data!["status"]!["exec_info"]!["queue_remaining"]!.GetValue<int>() == 1);
    }

    /// <summary>Holds every <c>POST /prompt</c> answer before its first byte until <see cref="Release"/>.</summary>
    private sealed class HeldPromptAnswers : IStartupFilter
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.TrySetResult();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path == "/prompt")
                {
                    context.Response.OnStarting(() => _released.Task);
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
