using ComfyOperator.Testing.ComfyUI;
using Microsoft.Playwright;

namespace ComfyOperator.Console.Tests.Support;

/// <summary>
/// One router with one configured ComfyUI simulator, and Debian's chromium driven by Playwright
/// (never a downloaded browser). Shared by the console tests; each test opens its own browser context.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    /// <summary>Where Debian installs chromium (scripts/install-test-deps.sh); CHROMIUM_PATH overrides it.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public ComfyUiSimulator Worker { get; private set; } = null!;

    public ConsoleRouter Router { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Steps take a moment, so a long run can be watched and cancelled.
        Worker = await ComfyUiSimulator.StartAsync(new ComfyUiSimulatorOptions { StepDelay = TimeSpan.FromMilliseconds(40), PreviewMethod = "auto" });
        Router = new ConsoleRouter([Worker.BaseAddress]);
        // Deadlines for conditions, not sleeps: generous because the machine may be busy.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh page (own session storage) on the router, at <paramref name="path"/>.</summary>
    public async Task<IPage> OpenAsync(string path = "console/", ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Router.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            ColorScheme = scheme,
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => System.Console.WriteLine($"console page error: {error}");
        await page.GotoAsync(path);
        return page;
    }

    /// <summary>Signs in with the Basic user through the form.</summary>
    public static async Task SignInAsync(IPage page)
    {
        await page.GetByLabel("User name").FillAsync(ConsoleRouter.Username);
        await page.GetByLabel("Password").FillAsync(ConsoleRouter.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console" })).ToBeVisibleAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Router?.Dispose();
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }
    }
}
