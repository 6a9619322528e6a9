namespace ComfyOperator.Testing.Tests.Kubernetes;

/// <summary>CRDs used by the tests (JSON, as a client would send them).</summary>
internal static class TestCrds
{
    public const string CronTabsPath = "/apis/stable.example.com/v1/namespaces/default/crontabs";

    public const string CronTab = """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"crontabs.stable.example.com"},
         "spec":{"group":"stable.example.com","scope":"Namespaced",
           "names":{"plural":"crontabs","singular":"crontab","kind":"CronTab","shortNames":["ct"]},
           "versions":[{"name":"v1","served":true,"storage":true,
             "schema":{"openAPIV3Schema":{"type":"object","properties":{
               "spec":{"type":"object","required":["cronSpec"],"properties":{
                 "cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                 "image":{"type":"string","minLength":3,"maxLength":20},
                 "replicas":{"type":"integer","minimum":1,"maximum":10,"default":1},
                 "mode":{"type":"string","enum":["Fast","Slow"]},
                 "tags":{"type":"array","maxItems":2,"items":{"type":"string"}},
                 "port":{"x-kubernetes-int-or-string":true},
                 "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
                 "note":{"type":"string","nullable":true},
                 "template":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true},
                 "settings":{"type":"object","default":{},"properties":{"level":{"type":"integer","default":3}}}}},
               "status":{"type":"object","properties":{
                 "replicas":{"type":"integer"},
                 "selector":{"type":"string"},
                 "conditions":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string"},"status":{"type":"string"}}}}}}}}},
             "subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas","labelSelectorPath":".status.selector"}},
             "additionalPrinterColumns":[
               {"name":"Spec","type":"string","jsonPath":".spec.cronSpec"},
               {"name":"Replicas","type":"integer","jsonPath":".spec.replicas"},
               {"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"},
               {"name":"Image","type":"string","jsonPath":".spec.image","priority":1},
               {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}]}]}}
        """;

    public static string CronTabObject(string name, string extraSpec = "", string extraMeta = "") =>
        $$$"""{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"{{{name}}}"{{{extraMeta}}}},"spec":{"cronSpec":"* * * * */5","image":"busybox"{{{extraSpec}}}}}""";

    public const string WidgetCrdYaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.demo.example.com
        spec:
          group: demo.example.com
          scope: Namespaced
          names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer, minimum: 1, maximum: 10, default: 1}
                      color: {type: string}
                  status:
                    type: object
                    properties:
                      size: {type: integer}
                      conditions:
                        type: array
                        items: {type: object, properties: {type: {type: string}, status: {type: string}}}
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size}
            additionalPrinterColumns:
            - {name: Size, type: integer, jsonPath: .spec.size}
            - {name: Color, type: string, jsonPath: .spec.color}
            - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
        """;
}
