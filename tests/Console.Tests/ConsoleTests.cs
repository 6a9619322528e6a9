using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ComfyOperator.Console.Tests.Support;
using ComfyOperator.Testing.ComfyUI;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ComfyOperator.Console.Tests;

/// <summary>The console in a real chromium against a real router and ComfyUI simulators.</summary>
[Collection(ConsoleTestGroup.Name)]
public sealed class ConsoleTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task SignIn_AdminAddressWrongThenRightPassword_ShowsNothingUntilSignedIn()
    {
        var page = await fixture.OpenAsync("admin");

        Assert.EndsWith("/console/", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" })).ToBeHiddenAsync();
        await page.GetByLabel("User name").FillAsync(ConsoleRouter.Username);
        await page.GetByLabel("Password").FillAsync("wrong");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong user name, password or API key");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToHaveCountAsync(0);

        await ConsoleFixture.SignInAsync(page);

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await Expect(page.Locator("#card-idle .value")).ToHaveTextAsync("1");
        Assert.Empty(await page.Context.CookiesAsync());
    }

    [Fact]
    public async Task Workers_AddSimulator_BecomesIdleAndRemoveTakesItAway()
    {
        await using var extra = await ComfyUiSimulator.StartAsync();
        var page = await fixture.OpenAsync("console/#/workers");
        await ConsoleFixture.SignInAsync(page);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();

        await page.GetByLabel("Address").FillAsync(extra.BaseAddress.ToString());
        await page.GetByLabel("Labels").FillAsync("gpu=sim");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add worker" }).ClickAsync();

        var row = page.Locator($"tr[data-address='{extra.BaseAddress}']");
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Idle");
        await Expect(row).ToContainTextAsync("gpu=sim");
        await Expect(row).ToContainTextAsync("api");

        await row.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();

        await Expect(row).ToHaveCountAsync(0);
        using var client = fixture.Router.CreateAuthorizedHttpClient();
        var nodes = await client.GetFromJsonAsync<JsonElement>("/v1/nodes");
        Assert.DoesNotContain(nodes.EnumerateArray(), n => n.GetProperty("address").GetString() == extra.BaseAddress.ToString());
    }

    [Fact]
    public async Task App_Sd15_RunShowsTheImageWithADownloadLink()
    {
        var page = await fixture.OpenAsync("console/#/apps/sd15?prompt=a%20lighthouse&steps=4");
        await ConsoleFixture.SignInAsync(page);

        await Expect(page.GetByLabel("prompt", new() { Exact = true })).ToHaveValueAsync("a lighthouse");
        await Expect(page.Locator("#input-steps")).ToHaveValueAsync("4");
        await Expect(page.Locator("#app-curl")).ToContainTextAsync("/v1/workflows/sd15/runs");
        await Expect(page.Locator("#app-python")).ToContainTextAsync("\"prompt\": \"a lighthouse\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run", Exact = true }).ClickAsync();

        await Expect(page.Locator("#app-results img")).ToBeVisibleAsync();
        await Expect(page.Locator("#app-status .status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator("#app-progress")).ToHaveAttributeAsync("value", "1");
        var width = await page.Locator("#app-results img").EvaluateAsync<int>("img => img.naturalWidth");
        Assert.True(width > 0, "the output image did not load");
        await Expect(page.GetByRole(AriaRole.Link, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Download ") })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Run_LongRun_CancelFromItsPage()
    {
        using var client = fixture.Router.CreateAuthorizedHttpClient();
        using var submitted = await client.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = "a long one", steps = 5000 });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var page = await fixture.OpenAsync($"console/#/runs/{id}");
        await ConsoleFixture.SignInAsync(page);

        await Expect(page.Locator("#run-timeline")).ToContainTextAsync("progress");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        await Expect(page.Locator("#run-status")).ToHaveTextAsync("cancelled");
        await Expect(page.Locator("#run-timeline")).ToContainTextAsync("cancelled");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeDisabledAsync();
    }

    [Fact]
    public async Task Keys_CreateKey_WorksWithHttpClientUntilRevoked()
    {
        var page = await fixture.OpenAsync("console/#/keys");
        await ConsoleFixture.SignInAsync(page);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("render farm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var key = (await page.Locator("#key-secret").TextContentAsync())!.Trim();

        using var client = fixture.Router.CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/runs")).StatusCode);
        var row = page.Locator("#keys-body tr", new() { HasText = "render farm" });
        await Expect(row).ToContainTextAsync("active");

        await row.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Revoke") }).ClickAsync();

        await Expect(row).ToContainTextAsync("revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/runs")).StatusCode);
    }

    [Fact]
    public async Task Pages_EveryPage_RendersInLightAndDarkAndIsScreenshotted()
    {
        // scripts/console-screenshots.sh sets CONSOLE_SCREENSHOTS to docs/images; otherwise they go to a temporary folder.
        var configured = Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS");
        var directory = string.IsNullOrEmpty(configured) ? Directory.CreateTempSubdirectory("console-screenshots-").FullName : configured;
        try
        {
            await ScreenshotEveryPageAsync(directory);
        }
        finally
        {
            if (string.IsNullOrEmpty(configured))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private async Task ScreenshotEveryPageAsync(string directory)
    {
        using var client = fixture.Router.CreateAuthorizedHttpClient();
        using var submitted = await client.PostAsJsonAsync("/v1/workflows/sd15/runs", new { prompt = "a lighthouse at dusk", steps = 6 });
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await Wait(async () => (await client.GetFromJsonAsync<JsonElement>($"/v1/runs/{id}")).GetProperty("status").GetString() == "succeeded");

        (string Name, string Path, string Heading)[] pages =
        [
            ("overview", "#/overview", "Overview"),
            ("workers", "#/workers", "Workers"),
            ("workflows", "#/workflows", "Workflows"),
            ("app", "#/apps/sd15?prompt=a%20lighthouse%20at%20dusk&steps=6", "sd15"),
            ("runs", "#/runs", "Runs"),
            ("run", $"#/runs/{id}", "Run"),
            ("keys", "#/keys", "API keys"),
        ];
        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            var page = await fixture.OpenAsync("console/", scheme);
            await ConsoleFixture.SignInAsync(page);
            var background = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
            Assert.Equal(scheme == ColorScheme.Dark ? "rgb(20, 23, 27)" : "rgb(255, 255, 255)", background);
            foreach (var (name, path, heading) in pages)
            {
                await page.GotoAsync("console/" + path);
                await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(heading);
                if (name == "run")
                {
                    await Expect(page.Locator("#run-outputs img")).ToBeVisibleAsync();
                }

                // Every input, select and textarea is labelled.
                var unlabelled = await page.EvaluateAsync<string[]>(
                    "[...document.querySelectorAll('input,select,textarea')].filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id || e.name || e.type)");
                Assert.True(unlabelled.Length == 0, $"{name}: unlabelled fields {string.Join(", ", unlabelled)}");
                var file = Path.Combine(directory, $"console-{name}{(scheme == ColorScheme.Dark ? "-dark" : "")}.png");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = false });
                Assert.True(new FileInfo(file).Length > 5_000, $"{file} is nearly empty");
            }
        }
    }

    private static async Task Wait(Func<Task<bool>> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            deadline.Token.ThrowIfCancellationRequested();
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
        }
    }
}
