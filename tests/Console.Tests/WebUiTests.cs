using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Console.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ComfyOperator.Console.Tests;

/// <summary>ComfyUI's web UI (the simulator's stand-in front end) through the router, in a real chromium.</summary>
[Collection(ConsoleTestGroup.Name)]
public sealed class WebUiTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task Editor_SignInAndQueue_PageAndObjectInfoComeThroughTheRouterAndTheImageShows()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.Router.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1200, Height = 800 },
        });
        await using var _ = context;
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var responses = new ConcurrentQueue<IResponse>();
        page.Response += (_, response) => responses.Enqueue(response);
        var errors = new ConcurrentQueue<string>();
        page.PageError += (_, error) => errors.Enqueue(error);

        await page.GotoAsync("/");
        Assert.EndsWith("/signin", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("API key").FillAsync(ConsoleRouter.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "ComfyUI (simulator stand-in)" })).ToBeVisibleAsync();
        await Expect(page.Locator("#classes")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[1-9][0-9]* node classes$"));
        await Expect(page.Locator("#extensions")).ToHaveTextAsync("Extension standin/hello.js loaded");
        await Expect(page.Locator("#status")).ToContainTextAsync("Connected");
        Assert.Equal(fixture.Worker.BaseAddress.Authority, await page.Locator("meta[name=comfyui-server]").GetAttributeAsync("content"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Queue" }).ClickAsync();

        var image = page.GetByRole(AriaRole.Img);
        await Expect(image).ToBeVisibleAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("finished");
        Assert.True(await image.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : 0") > 0, "the image did not load");
        var router = fixture.Router.BaseAddress.GetLeftPart(UriPartial.Authority);
        Assert.All(responses, r => Assert.StartsWith(router, r.Url, StringComparison.Ordinal));
        Assert.Contains(responses, r => r.Url == router + "/api/object_info" && r.Status == 200);
        Assert.Contains(responses, r => r.Url.StartsWith(router + "/api/view?", StringComparison.Ordinal) && r.Status == 200);
        Assert.Empty(errors);

        // The prompt ran through the router's queue: it is a run of the signed-in key, and the page's setting is in the router's store.
        var promptId = (await page.Locator("img").GetAttributeAsync("alt"))!.Replace("Output of prompt ", "", StringComparison.Ordinal);
        using var client = fixture.Router.CreateAuthorizedHttpClient();
        var run = await client.GetFromJsonAsync<JsonObject>($"/v1/runs/{promptId}");
        Assert.Equal("succeeded", run!["status"]!.GetValue<string>());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonObject>("/api/settings"))!["StandIn.QueueCount"]!.GetValue<int>());

        await ScreenshotAsync(page);
    }

    /// <summary>scripts/console-screenshots.sh sets CONSOLE_SCREENSHOTS to docs/images; otherwise the screenshot goes to a temporary folder.</summary>
    private static async Task ScreenshotAsync(IPage page)
    {
        var configured = Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS");
        var directory = string.IsNullOrEmpty(configured) ? Directory.CreateTempSubdirectory("webui-screenshots-").FullName : configured;
        try
        {
            var file = Path.Combine(directory, "webui.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = file });
            Assert.True(new FileInfo(file).Length > 5_000, $"{file} is nearly empty");
        }
        finally
        {
            if (string.IsNullOrEmpty(configured))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
