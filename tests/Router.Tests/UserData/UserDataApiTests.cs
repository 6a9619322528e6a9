using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ComfyOperator.Router.Tests.Support;

namespace ComfyOperator.Router.Tests.UserData;

/// <summary>ComfyUI's user state routes served from the router's store, per caller, as the front end calls them.</summary>
public sealed class UserDataApiTests
{
    private const string OtherKey = "other-key-9876543210";

    private static RouterFactory Start(string? dataDirectory = null) =>
        new(new Dictionary<string, string?> { ["Router:ApiKeys:1"] = OtherKey }, dataDirectory);

    private static HttpClient Other(RouterFactory router)
    {
        var client = router.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OtherKey);
        return client;
    }

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Settings_SetOneAndMerge_ReadBackPerCallerAndAfterRestart()
    {
        string directory;
        using (var router = Start())
        {
            directory = router.DataDirectory;
            using var client = router.CreateAuthorizedClient();
            using var other = Other(router);

            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/settings/Comfy.ColorPalette", Body("\"light\""))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/settings", Body("{\"Comfy.Locale\":\"fr\",\"Comfy.Sidebar.Size\":3}"))).StatusCode);

            Assert.Equal("\"light\"", await client.GetStringAsync("/api/settings/Comfy.ColorPalette"));
            Assert.Equal("null", await client.GetStringAsync("/api/settings/Comfy.Missing"));
            Assert.Equal("{}", await other.GetStringAsync("/api/settings"));
            Assert.False(JsonNode.Parse(await other.GetStringAsync("/api/users"))!["migrated"]!.GetValue<bool>());
        }

        using var restarted = Start(directory);
        using var again = restarted.CreateAuthorizedClient();
        var settings = JsonNode.Parse(await again.GetStringAsync("/settings"))!;

        Assert.Equal("light", settings["Comfy.ColorPalette"]!.GetValue<string>());
        Assert.Equal("fr", settings["Comfy.Locale"]!.GetValue<string>());
        Assert.Equal(3, settings["Comfy.Sidebar.Size"]!.GetValue<int>());
        Assert.Equal("server", JsonNode.Parse(await again.GetStringAsync("/api/users"))!["storage"]!.GetValue<string>());
        Assert.True(JsonNode.Parse(await again.GetStringAsync("/api/users"))!["migrated"]!.GetValue<bool>());
        Assert.Contains("Comfy.Locale", await again.GetStringAsync("/api/userdata/comfy.settings.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Userdata_SaveListMoveDelete_AsTheFrontEndCallsIt()
    {
        using var router = Start();
        using var client = router.CreateAuthorizedClient();
        using var other = Other(router);
        const string workflow = "{\"nodes\":[],\"links\":[]}";

        using var saved = await client.PostAsync("/api/userdata/workflows%2Fportrait.json?overwrite=false&full_info=true", Body(workflow));
        using var again = await client.PostAsync("/api/userdata/workflows%2Fportrait.json?overwrite=false", Body("{}"));
        await client.PostAsync("/api/userdata/workflows%2Fold%2Flandscape.json", Body(workflow));

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal("workflows/portrait.json", JsonNode.Parse(await saved.Content.ReadAsStringAsync())!["path"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(workflow, await client.GetStringAsync("/api/userdata/workflows%2Fportrait.json"));
        Assert.Equal("[\"portrait.json\"]", await client.GetStringAsync("/api/userdata?dir=workflows"));
        Assert.Equal("[\"old/landscape.json\",\"portrait.json\"]", await client.GetStringAsync("/api/userdata?dir=workflows&recurse=true"));
        Assert.Equal("[[\"old/landscape.json\",\"old\",\"landscape.json\"],[\"portrait.json\",\"portrait.json\"]]", await client.GetStringAsync("/api/userdata?dir=workflows&recurse=true&split=true"));
        var v2 = JsonNode.Parse(await client.GetStringAsync("/api/v2/userdata?path=workflows"))!.AsArray();
        Assert.Equal(["portrait.json:file", "old:directory"], v2.Select(e => $"{e!["name"]}:{e["type"]}"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/userdata/workflows%2Fportrait.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/userdata?dir=workflows")).StatusCode);

        using var moved = await client.PostAsync("/api/userdata/workflows%2Fportrait.json/move/workflows%2Fportrait-2.json", null);
        Assert.Equal("\"workflows/portrait-2.json\"", await moved.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/userdata/workflows%2Fportrait.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/userdata/workflows%2Fportrait-2.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/userdata/workflows%2Fportrait-2.json")).StatusCode);
        Assert.Equal("[\"old/landscape.json\"]", await client.GetStringAsync("/api/userdata?dir=workflows&recurse=true"));
    }

    [Theory]
    [InlineData("..%2F..%2Fetc%2Fpasswd")]
    [InlineData("workflows%2F..%2F..%2Fsecret.json")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("workflows%5C..%5Ca.json")]
    [InlineData("workflows%2F.%2Fa.json")]
    [InlineData("%252E%252E%252Fsecret.json")]
    public async Task Userdata_PathLeavingTheUsersFiles_Refused(string file)
    {
        using var router = Start();
        using var client = router.CreateAuthorizedClient();

        using var write = await client.PostAsync($"/api/userdata/{file}", Body("{}"));
        using var read = await client.GetAsync($"/api/userdata/{file}");
        using var list = await client.GetAsync($"/api/userdata?dir={file}");

        Assert.Equal(HttpStatusCode.BadRequest, write.StatusCode);
        Assert.Contains(read.StatusCode, (HttpStatusCode[])[HttpStatusCode.NotFound, HttpStatusCode.BadRequest]);
        Assert.Contains(list.StatusCode, (HttpStatusCode[])[HttpStatusCode.NotFound, HttpStatusCode.BadRequest]);
        Assert.Equal("[]", await client.GetStringAsync("/api/v2/userdata?path="));
    }

    [Fact]
    public async Task Userdata_WithoutCredentials_401()
    {
        using var router = Start();
        using var client = router.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/settings")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/api/userdata/a.json", Body("{}"))).StatusCode);
    }
}
