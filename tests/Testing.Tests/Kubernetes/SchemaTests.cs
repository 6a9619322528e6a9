using ComfyOperator.Testing.Kubernetes;

namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>CRD pruning, defaulting and validation (docs/kubernetes-api.md §6.3) with the exact 422 messages.</summary>
public sealed class SchemaTests : IAsyncLifetime
{
    private const string Path = TestCrds.CronTabsPath;
    private KubeApiEmulator _emu = null!;
    private ApiClient _api = null!;

    public async Task InitializeAsync()
    {
        _emu = await KubeApiEmulator.StartAsync();
        _api = new ApiClient(_emu.BaseAddress);
        await _api.CreateCronTabCrdAsync();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _emu.DisposeAsync();
    }

    [Fact]
    public async Task Create_UnknownFields_PrunedWithWarning()
    {
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: ",\"bogus\":1,\"extra\":{\"anything\":{\"goes\":true}}", extraMeta: ",\"selfLink\":\"x\"").Replace("\"kind\":\"CronTab\",", "\"kind\":\"CronTab\",\"top\":1,", StringComparison.Ordinal));
        Assert.Equal(201, r.Code);
        Assert.Null(r.Json!["spec"]!["bogus"]);
        Assert.Null(r.Json!["top"]);
        Assert.Null(r.Json!["metadata"]!["selfLink"]);
        Assert.Equal("""{"anything":{"goes":true}}""", r.Json!["spec"]!["extra"]!.ToJsonString());
        var warning = r.Header("Warning");
        Assert.NotNull(warning);
        Assert.Contains("299 - \"unknown field \\\"spec.bogus\\\"\"", warning);
    }

    [Fact]
    public async Task Create_UnknownFieldStrict_BadRequest()
    {
        var r = await _api.PostAsync(Path + "?fieldValidation=Strict", TestCrds.CronTabObject("c1", extraSpec: ",\"bogus\":1"));
        Assert.Equal(400, r.Code);
        Assert.Equal("CronTab in version \"v1\" cannot be handled as a CronTab: strict decoding error: unknown field \"spec.bogus\"", r.Message);
    }

    [Fact]
    public async Task Create_Defaults_AppliedTopDown()
    {
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: ",\"note\":null,\"mode\":null"));
        Assert.Equal(201, r.Code);
        Assert.Equal(1, r.Json!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal(3, r.Json!["spec"]!["settings"]!["level"]!.GetValue<long>());
        Assert.True(r.Json!["spec"]!.AsObject().ContainsKey("note"));
        Assert.False(r.Json!["spec"]!.AsObject().ContainsKey("mode"));
    }

    [Theory]
    [InlineData(",\"replicas\":15", "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10", "FieldValueInvalid")]
    [InlineData(",\"replicas\":0", "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1", "FieldValueInvalid")]
    [InlineData(",\"replicas\":\"abc\"", "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"", "FieldValueTypeInvalid")]
    [InlineData(",\"replicas\":1.5", "spec.replicas: Invalid value: \"number\": spec.replicas in body must be of type integer: \"number\"", "FieldValueTypeInvalid")]
    [InlineData(",\"mode\":\"Medium\"", "spec.mode: Unsupported value: \"Medium\": supported values: \"Fast\", \"Slow\"", "FieldValueNotSupported")]
    [InlineData(",\"tags\":[\"a\",\"b\",\"c\"]", "spec.tags: Too many: 3: must have at most 2 items", "FieldValueTooMany")]
    [InlineData(",\"port\":true", "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"", "FieldValueTypeInvalid")]
    public async Task Create_SchemaViolation_InvalidWithExactMessage(string extraSpec, string expected, string cause)
    {
        var r = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: extraSpec));
        Assert.Equal(422, r.Code);
        Assert.Equal("Invalid", r.Reason);
        Assert.Equal($"CronTab.stable.example.com \"c1\" is invalid: {expected}", r.Message);
        Assert.Equal(cause, r.Json!["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal(expected.Split(':')[0], r.Json!["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        Assert.Equal("CronTab", r.Json!["details"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_StringRules_LengthAndPattern()
    {
        var shortImage = await _api.PostAsync(Path, TestCrds.CronTabObject("c1").Replace("busybox", "ab", StringComparison.Ordinal));
        Assert.Equal("CronTab.stable.example.com \"c1\" is invalid: spec.image: Invalid value: \"ab\": spec.image in body should be at least 3 chars long", shortImage.Message);

        var longImage = await _api.PostAsync(Path, TestCrds.CronTabObject("c1").Replace("busybox", new string('x', 21), StringComparison.Ordinal));
        Assert.Equal("CronTab.stable.example.com \"c1\" is invalid: spec.image: Too long: may not be more than 20 bytes", longImage.Message);

        var pattern = await _api.PostAsync(Path, TestCrds.CronTabObject("c1").Replace("* * * * */5", "bad", StringComparison.Ordinal));
        Assert.StartsWith("CronTab.stable.example.com \"c1\" is invalid: spec.cronSpec: Invalid value: \"bad\": spec.cronSpec in body should match '^(\\d+|\\*)", pattern.Message);
    }

    [Fact]
    public async Task Create_SeveralErrors_ListedInBrackets()
    {
        var r = await _api.PostAsync(Path, """{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"c1"},"spec":{"replicas":11,"mode":"x"}}""");
        Assert.Equal(422, r.Code);
        Assert.Equal("CronTab.stable.example.com \"c1\" is invalid: [spec.cronSpec: Required value, spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10, spec.mode: Unsupported value: \"x\": supported values: \"Fast\", \"Slow\"]", r.Message);
        Assert.Equal(3, r.Json!["details"]!["causes"]!.AsArray().Count);
        Assert.Equal("FieldValueRequired", r.Json!["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_IntOrStringAndEmbedded_Accepted()
    {
        var ok = await _api.PostAsync(Path, TestCrds.CronTabObject("c1", extraSpec: ",\"port\":\"http\",\"template\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"junk\":1},\"spec\":{}}"));
        Assert.Equal(201, ok.Code);
        Assert.Null(ok.Json!["spec"]!["template"]!["metadata"]!["junk"]);
        var intPort = await _api.PostAsync(Path, TestCrds.CronTabObject("c2", extraSpec: ",\"port\":8080"));
        Assert.Equal(201, intPort.Code);
        var missingKind = await _api.PostAsync(Path, TestCrds.CronTabObject("c3", extraSpec: ",\"template\":{\"apiVersion\":\"v1\"}"));
        Assert.Equal(422, missingKind.Code);
        Assert.Contains("spec.template.kind: Required value: must not be empty", missingKind.Message);
    }

    [Fact]
    public async Task Update_SchemaViolation_Refused()
    {
        await _api.PostAsync(Path, TestCrds.CronTabObject("c1"));
        var r = await _api.PatchAsync(Path + "/c1", """{"spec":{"replicas":100}}""");
        Assert.Equal(422, r.Code);
        Assert.Equal(1, (await _api.GetAsync(Path + "/c1")).Json!["spec"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public async Task CrdCreate_InvalidDefinition_Invalid()
    {
        var r = await _api.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", """
            {"metadata":{"name":"wrong.example.com"},"spec":{"group":"example.com","scope":"Galaxy","names":{"plural":"things","kind":"Thing"},"versions":[{"name":"v1","served":true,"storage":false}]}}
            """);
        Assert.Equal(422, r.Code);
        Assert.StartsWith("CustomResourceDefinition.apiextensions.k8s.io \"wrong.example.com\" is invalid: [", r.Message);
        Assert.Contains("metadata.name: Invalid value: \"wrong.example.com\": must be spec.names.plural+\".\"+spec.group", r.Message);
        Assert.Contains("spec.scope: Unsupported value: \"Galaxy\"", r.Message);
        Assert.Contains("must have exactly one version marked as storage version", r.Message);
        Assert.Contains("spec.versions[0].schema.openAPIV3Schema: Required value", r.Message);
    }
}
