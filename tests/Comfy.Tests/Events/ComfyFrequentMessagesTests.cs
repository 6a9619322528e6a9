using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ComfyOperator.Comfy.Events;

namespace ComfyOperator.Comfy.Tests.Events;

/// <summary>The byte reader of the frequent messages reads every frame exactly as the JSON tree parser does.</summary>
public sealed class ComfyFrequentMessagesTests
{
    public static TheoryData<string> Frames() => new()
    {
        // As ComfyUI 0.3.64 (and the simulator) send them.
        """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}, "sid": "abc"}}""",
        """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}}""",
        """{"type": "executing", "data": {"node": "3", "display_node": "3", "prompt_id": "p1"}}""",
        """{"type": "executing", "data": {"node": null, "prompt_id": "p1"}}""",
        """{"type": "progress", "data": {"value": 1, "max": 20, "prompt_id": "p1", "node": "3"}}""",
        """{"type": "execution_start", "data": {"prompt_id": "p1", "timestamp": 1765080000000}}""",
        """{"type": "execution_cached", "data": {"nodes": ["4", "6"], "prompt_id": "p1", "timestamp": 1765080000001}}""",
        """{"type": "execution_success", "data": {"prompt_id": "p1", "timestamp": 1765080000002}}""",
        """{"type": "progress_state", "data": {"prompt_id": "p1", "nodes": {"4": {"value": 1.0, "max": 1.0, "state": "finished", "node_id": "4", "prompt_id": "p1", "display_node_id": "4", "parent_node_id": null, "real_node_id": "4"}, "3": {"value": 0.0, "max": 1.0, "state": "running", "node_id": "3", "prompt_id": "p1", "display_node_id": "3", "parent_node_id": null, "real_node_id": "3"}}}}""",

        // Lenient reading: numbers as strings and strings as numbers, wrong kinds, missing and unknown keys.
        """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": "7"}}, "sid": 12}}""",
        """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 3.0}}}}""",
        """{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1e300}}}}""",
        """{"type": "status", "data": {"status": {"exec_info": []}, "sid": null}}""",
        """{"type": "status", "data": {"status": 5}}""",
        """{"type": "status", "data": []}""",
        """{"type": "status"}""",
        """{"data": {"node": "9", "prompt_id": "p2"}, "type": "executing"}""",
        """{"type": "executing", "data": {"node": 9, "display_node": {"x": [1, 2]}, "prompt_id": 5, "extra": {"deep": [{"a": 1}]}}}""",
        """{"type": "progress", "data": {"value": "2.5", "max": "x", "node": true}}""",
        """{"type": "progress", "data": {"value": 1e400, "max": -0.0}}""",
        """{"type": "progress_state", "data": {"nodes": {"5": 1, "6": {"value": "3", "state": 7, "node_id": null}, "7": {}}}}""",
        """{"type": "progress_state", "data": {"nodes": [1, 2], "prompt_id": "p3"}}""",
        """{"type": "progress_state", "data": {"prompt_id": "p3"}}""",
        """{"type": "execution_start", "data": {"timestamp": "12", "prompt_id": 7}}""",
        """{"type": "execution_start", "data": {"timestamp": 1.5e3}}""",
        """{"type": "execution_success", "data": {"timestamp": 1e300, "nodes": ["x"]}}""",
        """{"type": "execution_success", "data": {"timestamp": [1], "prompt_id": null}}""",
        """{"type": "execution_cached", "data": {"nodes": [1, "2", null, {"x": 3}, [4], true, 5.0], "timestamp": "x"}}""",
        """{"type": "execution_cached", "data": {"nodes": {"4": "x"}, "prompt_id": "p5"}}""",
        """{"type": "execution_cached", "data": {"prompt_id": "p5"}}""",
        """{"type": "progress", "data": {"value": 1, "max": 2, "timestamp": {"x": 1}, "nodes": [1]}}""",
        """{"type": "execution_cached", "data": {"n\u006fdes": ["4"]}}""",
        """{"type": "progress_state", "data": {"nodes": {"4": {"node_id": "5", "display_node_id": "\u0034", "real_node_id": 4, "state": "\u0072unning"}, "5": {"node_id": "55", "display_node_id": "", "real_node_id": null, "state": "errored"}}}}""",
        """{"type": "progress_state", "data": {"nodes": {"": {"node_id": "", "state": "pending"}, "9": {"state": "error", "display_node_id": "9"}, "10": {"state": "finished", "node_id": "1"}}}}""",
        """{"type": "executing", "data": {"\u006eode": "4", "prompt_id": "p4"}}""",
        """{"type": "progress_state", "data": {"nodes": {"\u0031": {"v\u0061lue": 1}}}}""",
        """{"type": "ex\u0065cuting", "data": {"node": "4"}}""",

        // Not for the byte reader: the tree parser's answer stands.
        """{"type": "executing", "data": "text"}""",
        """{"type": "execution_start", "data": null}""",
        """{"type": "executed", "data": {"node": "9", "output": {"images": []}, "prompt_id": "p1"}}""",
        """{"type": 5, "data": {}}""",
        """{"type": "crystools.monitor", "data": {"cpu_utilization": 3}}""",
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void ParseText_AnyFrame_ReadsAsTheTreeParserDoes(string frame)
    {
        var utf8 = Encoding.UTF8.GetBytes(frame);

        var read = ComfyMessageParser.ParseText(utf8);

        Assert.Equal(Describe(ComfyMessageParser.ParseMessage(JsonNode.Parse(utf8))), Describe(read));
    }

    [Theory]
    [InlineData("""{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}}}""")]
    [InlineData("""{"type": "executing", "data": {"node": "3", "prompt_id": "p1"}}""")]
    [InlineData("""{"type": "progress", "data": {"value": 1, "max": 20, "node": "3"}}""")]
    [InlineData("""{"type": "progress_state", "data": {"nodes": {"4": {"value": 1.0, "max": 1.0, "state": "finished"}}}}""")]
    [InlineData("""{"type": "execution_start", "data": {"prompt_id": "p1", "timestamp": 1}}""")]
    [InlineData("""{"type": "execution_cached", "data": {"nodes": [], "prompt_id": "p1", "timestamp": 1}}""")]
    [InlineData("""{"type": "execution_success", "data": {"prompt_id": "p1", "timestamp": 1}}""")]
    public void TryRead_FrequentMessage_ReadsItWithoutTheTree(string frame)
    {
        Assert.NotNull(ComfyFrequentMessages.TryRead(Encoding.UTF8.GetBytes(frame)));
    }

    [Theory]
    [InlineData("""{"type": "executing", "data": {"node": "3"}""")]
    [InlineData("""{"type": "executing", "data": {"node": "3"}} trailing""")]
    [InlineData("""["executing"]""")]
    public void ParseText_NotAMessage_StillThrowsProtocolException(string frame)
    {
        Assert.Throws<ComfyProtocolException>(() => ComfyMessageParser.ParseText(Encoding.UTF8.GetBytes(frame)));
    }

    private static readonly JsonSerializerOptions Exact = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static string Describe(ComfyEvent ev) => ev.GetType().Name + " " + JsonSerializer.Serialize(ev, ev.GetType(), Exact);
}
