using System.Text;

namespace ComfyOperator.Install.Tests;

/// <summary>The chart rendered by <c>helm template</c>: what each set of values produces.</summary>
public sealed class ChartRenderTests
{
    /// <summary>Helm's install order for the kinds this chart emits.</summary>
    private static readonly string[] InstallOrder =
    [
        "PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim", "CustomResourceDefinition",
        "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment", "Ingress", "ServiceMonitor",
    ];

    [Fact]
    public async Task Render_DefaultValues_OperatorRouterAndSharedCacheInInstallOrder()
    {
        var manifests = await Helm.TemplateManifestsAsync();

        var kinds = manifests.Items.Select(m => Array.IndexOf(InstallOrder, m.Kind)).ToList();
        Assert.DoesNotContain(-1, kinds);
        Assert.Equal(kinds.Order(), kinds);

        var router = manifests.Single("Deployment", "comfy-comfy-router");
        var container = Tree.Get(router.Root, "spec.template.spec.containers.0");
        Assert.Equal("ghcr.io/comfyoperator/comfy-router:0.1.0", Tree.Get(container, "image"));
        Assert.Equal("true", Tree.Get(container, "securityContext.readOnlyRootFilesystem"));
        Assert.Equal("65532", Tree.Get(router.Root, "spec.template.spec.securityContext.runAsUser"));
        Assert.Equal("Recreate", router.Get("spec.strategy.type"));
        Assert.Equal("1", router.Get("spec.replicas"));
        Assert.Equal("/healthz", Tree.Get(container, "livenessProbe.httpGet.path"));
        Assert.DoesNotContain("COMFY_ROUTER__STORE__CONNECTION_STRING", EnvOf(router).Keys);
        Assert.DoesNotContain("COMFY_ROUTER__STORE__KIND", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data").Keys);
        Assert.Equal("1", manifests.Single("PodDisruptionBudget", "comfy-comfy-router").Get("spec.maxUnavailable"));
        Assert.Equal("/readyz", Tree.Get(container, "readinessProbe.httpGet.path"));
        var mounts = Tree.List(container, "volumeMounts").ToDictionary(m => (string)Tree.Get(m, "name")!, m => (string)Tree.Get(m, "mountPath")!);
        Assert.Equal("/cache", mounts["cache"]);
        Assert.Equal("/var/lib/comfy-router", mounts["data"]);
        Assert.Equal("/tmp", mounts["tmp"]);
        var volumes = Tree.List(router.Root, "spec.template.spec.volumes").ToDictionary(v => (string)Tree.Get(v, "name")!);
        Assert.Equal("comfy-comfy-router-cache", Tree.Get(volumes["cache"], "persistentVolumeClaim.claimName"));
        Assert.Equal("comfy-comfy-router-data", Tree.Get(volumes["data"], "persistentVolumeClaim.claimName"));

        var cache = manifests.Single("PersistentVolumeClaim", "comfy-comfy-router-cache");
        Assert.Equal(["ReadWriteMany"], Tree.List(cache.Root, "spec.accessModes"));
        Assert.Equal("100Gi", cache.Get("spec.resources.requests.storage"));
        Assert.Equal("keep", Tree.Map(cache.Root, "metadata.annotations")["helm.sh/resource-policy"]);

        var secret = manifests.Single("Secret", "comfy-comfy-router-auth");
        var password = Encoding.UTF8.GetString(Convert.FromBase64String((string)secret.Get("data.password")!));
        Assert.Equal(24, password.Length);

        var operatorDeployment = manifests.Single("Deployment", "comfy-comfy-router-operator");
        var operatorArgs = Tree.List(operatorDeployment.Root, "spec.template.spec.containers.0.args");
        Assert.Equal("run", operatorArgs[0]);
        Assert.Contains("--leader-election=true", operatorArgs);
        Assert.Contains("--lease-namespace=default", operatorArgs);
        Assert.DoesNotContain(operatorArgs, a => (a as string)!.StartsWith("--namespace", StringComparison.Ordinal));
        Assert.Equal("comfy-comfy-router-operator", operatorDeployment.Get("spec.template.spec.serviceAccountName"));
        Assert.Equal(2, manifests.OfKind("PodDisruptionBudget").Count());

        Assert.Empty(manifests.OfKind("Ingress"));
        Assert.Empty(manifests.OfKind("ServiceMonitor"));
        Assert.DoesNotContain(manifests.Items, m => m.Name.Contains("minio", StringComparison.Ordinal));
        Assert.DoesNotContain(manifests.Items, m => m.Name.Contains("postgresql", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Render_KindValues_LocalImagesNodePortLocalPathAndMinio()
    {
        var manifests = await Helm.TemplateManifestsAsync([RepoPaths.KindValues]);

        var router = manifests.Single("Deployment", "comfy");
        Assert.Equal("comfyoperator/comfy-router:dev", router.Get("spec.template.spec.containers.0.image"));
        Assert.Equal("Never", router.Get("spec.template.spec.containers.0.imagePullPolicy"));
        var env = EnvOf(router);
        Assert.Equal("comfy-minio", Tree.Get(env["AWS_ACCESS_KEY_ID"], "valueFrom.secretKeyRef.name"));

        var service = manifests.Single("Service", "comfy");
        Assert.Equal("NodePort", service.Get("spec.type"));
        Assert.Equal("30080", service.Get("spec.ports.0.nodePort"));

        var settings = Tree.Map(manifests.Single("ConfigMap", "comfy-settings").Root, "data");
        Assert.Equal("s3", settings["COMFY_ROUTER__OUTPUTS__KIND"]);
        Assert.Equal("http://comfy-minio.default.svc:9000", settings["COMFY_ROUTER__OUTPUTS__S3__SERVICE_URL"]);
        Assert.Equal("comfy-outputs", settings["COMFY_ROUTER__OUTPUTS__S3__BUCKET"]);

        var cache = manifests.Single("PersistentVolumeClaim", "comfy-cache");
        Assert.Equal("standard", cache.Get("spec.storageClassName"));
        Assert.Equal(["ReadWriteOnce"], Tree.List(cache.Root, "spec.accessModes"));

        var operatorArgs = Tree.List(manifests.Single("Deployment", "comfy-operator").Root, "spec.template.spec.containers.0.args");
        Assert.Contains("--default-image=comfyoperator/comfyui:dev-cpu", operatorArgs);
        Assert.Contains("--operator-image=comfyoperator/comfy-operator:dev", operatorArgs);

        var minio = manifests.Single("Deployment", "comfy-minio");
        Assert.Contains("comfy-outputs", minio.Yaml, StringComparison.Ordinal);
        Assert.Empty(manifests.OfKind("PodDisruptionBudget"));
    }

    [Fact]
    public async Task Render_FullValues_EveryOptionReachesItsObjects()
    {
        var manifests = await Helm.TemplateManifestsAsync([RepoPaths.FullValues], @namespace: "comfy-system");

        Assert.All(manifests.Items, m => Assert.Equal("imaging", m.Get("metadata.labels.team")));
        var operatorDeployment = manifests.Single("Deployment", "comfy-comfy-router-operator");
        Assert.Equal("2", operatorDeployment.Get("spec.replicas"));
        var operatorArgs = Tree.List(operatorDeployment.Root, "spec.template.spec.containers.0.args");
        Assert.Contains("--namespace=team-a", operatorArgs);
        Assert.Contains("--namespace=team-b", operatorArgs);
        Assert.Contains("--metrics-port=9100", operatorArgs);
        foreach (var deployment in new[] { operatorDeployment, manifests.Single("Deployment", "comfy-comfy-router") })
        {
            Assert.Equal("regcred", deployment.Get("spec.template.spec.imagePullSecrets.0.name"));
            Assert.Equal("system-cluster-critical", deployment.Get("spec.template.spec.priorityClassName"));
            Assert.Equal("linux", Tree.Map(deployment.Root, "spec.template.spec.nodeSelector")["kubernetes.io/os"]);
            Assert.Equal("dedicated", deployment.Get("spec.template.spec.tolerations.0.key"));
            Assert.Equal("true", Tree.Map(deployment.Root, "spec.template.metadata.annotations")["example.com/scrape"]);
        }

        var service = manifests.Single("Service", "comfy-comfy-router");
        Assert.Equal("LoadBalancer", service.Get("spec.type"));
        Assert.Equal("80", service.Get("spec.ports.0.port"));
        Assert.Equal("nginx", manifests.Single("Ingress", "comfy-comfy-router").Get("spec.ingressClassName"));
        Assert.Equal(2, manifests.OfKind("ServiceMonitor").Count());
        Assert.Equal(2, manifests.OfKind("PodDisruptionBudget").Count());
        Assert.Equal("ComfyOperator", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-dashboards").Root, "metadata.annotations")["grafana_folder"]);
        Assert.Equal("fast", manifests.Single("PersistentVolumeClaim", "comfy-comfy-router-data").Get("spec.storageClassName"));
        Assert.Equal("shared", manifests.Single("PersistentVolumeClaim", "comfy-comfy-router-cache").Get("spec.storageClassName"));
        manifests.Single("Deployment", "comfy-comfy-router-minio");
        var settings = Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data");
        Assert.Equal("http://comfy-comfy-router-minio.comfy-system.svc:9000", settings["COMFY_ROUTER__OUTPUTS__S3__SERVICE_URL"]);
        Assert.Equal("RoundRobin", settings["COMFY_ROUTER__PLACEMENT_POLICY"]);
        Assert.Equal("postgres", settings["COMFY_ROUTER__STORE__KIND"]);
        Assert.Equal("active", settings["COMFY_ROUTER__STORE__REPLICA_MODE"]);
        Assert.Empty(manifests.OfKind("ClusterRole"));

        // Two routers on the in-chart PostgreSQL, its connection string from its Secret.
        var router = manifests.Single("Deployment", "comfy-comfy-router");
        Assert.Equal("2", router.Get("spec.replicas"));
        Assert.Equal("RollingUpdate", router.Get("spec.strategy.type"));
        var connection = EnvOf(router)["COMFY_ROUTER__STORE__CONNECTION_STRING"];
        Assert.Equal("comfy-comfy-router-postgresql", Tree.Get(connection, "valueFrom.secretKeyRef.name"));
        Assert.Equal("connection-string", Tree.Get(connection, "valueFrom.secretKeyRef.key"));
        var postgresSecret = Tree.Map(manifests.Single("Secret", "comfy-comfy-router-postgresql").Root, "data");
        Assert.Equal(
            "Host=comfy-comfy-router-postgresql;Port=5432;Database=comfy_router;Username=comfy;Password=a-postgres-password",
            Encoding.UTF8.GetString(Convert.FromBase64String((string)postgresSecret["connection-string"]!)));
        Assert.Equal("a-postgres-password", Encoding.UTF8.GetString(Convert.FromBase64String((string)postgresSecret["password"]!)));
        var postgres = manifests.Single("Deployment", "comfy-comfy-router-postgresql");
        Assert.Equal("postgres:17", postgres.Get("spec.template.spec.containers.0.image"));
        var postgresEnv = EnvOf(postgres);
        Assert.Equal("comfy_router", Tree.Get(postgresEnv["POSTGRES_DB"], "value"));
        Assert.Equal("comfy", Tree.Get(postgresEnv["POSTGRES_USER"], "value"));
        Assert.Equal("password", Tree.Get(postgresEnv["POSTGRES_PASSWORD"], "valueFrom.secretKeyRef.key"));
        Assert.Equal("comfy-comfy-router-postgresql", postgres.Get("spec.template.spec.volumes.0.persistentVolumeClaim.claimName"));
        var postgresClaim = manifests.Single("PersistentVolumeClaim", "comfy-comfy-router-postgresql");
        Assert.Equal("fast", postgresClaim.Get("spec.storageClassName"));
        Assert.Equal("20Gi", postgresClaim.Get("spec.resources.requests.storage"));
        Assert.Equal("5432", manifests.Single("Service", "comfy-comfy-router-postgresql").Get("spec.ports.0.port"));
        Assert.Equal(["team-a", "team-b"], manifests.OfKind("Role").Where(r => r.Name == "comfy-comfy-router-router").Select(r => r.Namespace!).Order());
    }

    [Fact]
    public async Task Render_IngressEnabled_RoutesHostToRouterService()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router:
              ingress:
                enabled: true
                className: nginx
                hosts:
                  - host: comfy.example.org
                    paths: [{path: /, pathType: Prefix}]
                tls: [{secretName: comfy-tls, hosts: [comfy.example.org]}]
            """);
        Assert.True(result.Succeeded, result.ToString());
        var ingress = ManifestSet.Parse(result.StdOut).Single("Ingress", "comfy-comfy-router");
        Assert.Equal("nginx", ingress.Get("spec.ingressClassName"));
        Assert.Equal("comfy.example.org", ingress.Get("spec.rules.0.host"));
        Assert.Equal("comfy-comfy-router", ingress.Get("spec.rules.0.http.paths.0.backend.service.name"));
        Assert.Equal("8080", ingress.Get("spec.rules.0.http.paths.0.backend.service.port.number"));
        Assert.Equal("comfy-tls", ingress.Get("spec.tls.0.secretName"));
    }

    [Fact]
    public async Task Render_ServiceMonitorEnabled_ScrapesRouterAndOperator()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router: {metricsPort: 9091}
            metrics: {serviceMonitor: {enabled: true, interval: 15s, labels: {release: prom}}}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var router = manifests.Single("ServiceMonitor", "comfy-comfy-router");
        Assert.Equal("metrics", router.Get("spec.endpoints.0.port"));
        Assert.Equal("15s", router.Get("spec.endpoints.0.interval"));
        Assert.Equal("prom", router.Get("metadata.labels.release"));
        Assert.Equal("metrics", manifests.Single("ServiceMonitor", "comfy-comfy-router-operator").Get("spec.endpoints.0.port"));
        Assert.Contains(Tree.List(manifests.Single("Service", "comfy-comfy-router").Root, "spec.ports"), p => Tree.Get(p, "name") as string == "metrics");
        Assert.Equal("9091", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data")["Metrics__Port"]);
    }

    [Fact]
    public async Task Render_DashboardFilesInChart_ShippedAsConfigMapWithSidecarLabel()
    {
        var copy = Directory.CreateTempSubdirectory("chart-copy-");
        try
        {
            CopyDirectory(RepoPaths.Chart, copy.FullName);
            var dashboards = Path.Combine(copy.FullName, "dashboards");
            Directory.CreateDirectory(dashboards);
            const string Json = "{\n  \"title\": \"ComfyOperator\",\n  \"panels\": []\n}\n";
            await File.WriteAllTextAsync(Path.Combine(dashboards, "comfyoperator-test.json"), Json);

            var result = await Helm.TemplateAsync(chartDirectory: copy.FullName);
            Assert.True(result.Succeeded, result.ToString());
            var map = ManifestSet.Parse(result.StdOut).Single("ConfigMap", "comfy-comfy-router-dashboards");
            Assert.Equal("1", map.Get("metadata.labels.grafana_dashboard"));
            Assert.Equal(Json, Tree.Map(map.Root, "data")["comfyoperator-test.json"]);

            var off = await Helm.TemplateAsync(chartDirectory: copy.FullName, valueFiles: [await WriteTempAsync(copy, "metrics: {grafanaDashboard: {enabled: false}}")]);
            Assert.True(off.Succeeded, off.ToString());
            Assert.DoesNotContain(ManifestSet.Parse(off.StdOut).Items, m => m.Name.EndsWith("-dashboards", StringComparison.Ordinal));
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Render_ChartAsShipped_DashboardConfigMapOnlyWhenDashboardsExist()
    {
        var manifests = await Helm.TemplateManifestsAsync();
        var shipped = Directory.Exists(Path.Combine(RepoPaths.Chart, "dashboards"))
            && Directory.GetFiles(Path.Combine(RepoPaths.Chart, "dashboards"), "*.json").Length > 0;
        Assert.Equal(shipped, manifests.Items.Any(m => m.Name == "comfy-comfy-router-dashboards"));
    }

    [Fact]
    public async Task Render_Defaults_WorkerCleanupSecretSharedByRouterAndOperatorAndScratchLimited()
    {
        var manifests = await Helm.TemplateManifestsAsync();

        var secret = manifests.Single("Secret", "comfy-comfy-router-worker-cleanup");
        Assert.True(((string)Tree.Get(secret.Root, "data.token")!).Length >= 16);
        var router = EnvOf(manifests.Single("Deployment", "comfy-comfy-router"));
        var operatorDeployment = manifests.Items.Single(m => m.Kind == "Deployment" && m.Name.EndsWith("operator", StringComparison.Ordinal));
        var operatorEnv = EnvOf(operatorDeployment);
        Assert.Equal(secret.Name, Tree.Get(router["COMFY_ROUTER__DISK_CLEANUP__TOKEN"], "valueFrom.secretKeyRef.name"));
        Assert.Equal(secret.Name, Tree.Get(operatorEnv["COMFY_OPERATOR_WORKER_CLEANUP_TOKEN"], "valueFrom.secretKeyRef.name"));
        Assert.Contains("--scratch-size-limit=50Gi", Tree.List(operatorDeployment.Root, "spec.template.spec.containers.0.args").Cast<string>());
    }

    [Fact]
    public async Task Render_ExistingSecrets_CreatesNoSecretsAndReferencesThem()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router:
              auth: {existingSecret: my-auth}
              outputs:
                store: S3
                s3: {endpoint: "https://r2.example.com", bucket: out, useChunkEncoding: false, existingSecret: my-s3, accessKeyIdKey: id, secretAccessKeyKey: key}
            workerCleanup: {existingSecret: my-cleanup}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        Assert.Empty(manifests.OfKind("Secret"));
        var router = manifests.Single("Deployment", "comfy-comfy-router");
        var env = EnvOf(router);
        Assert.Equal("my-auth", Tree.Get(env["COMFY_ROUTER__PASSWORD"], "valueFrom.secretKeyRef.name"));
        Assert.Equal("my-s3", Tree.Get(env["AWS_ACCESS_KEY_ID"], "valueFrom.secretKeyRef.name"));
        Assert.Equal("id", Tree.Get(env["AWS_ACCESS_KEY_ID"], "valueFrom.secretKeyRef.key"));
        Assert.Equal("key", Tree.Get(env["AWS_SECRET_ACCESS_KEY"], "valueFrom.secretKeyRef.key"));
        Assert.Equal("my-cleanup", Tree.Get(env["COMFY_ROUTER__DISK_CLEANUP__TOKEN"], "valueFrom.secretKeyRef.name"));
        Assert.Contains(Tree.List(router.Root, "spec.template.spec.volumes"), v => Tree.Get(v, "secret.secretName") as string == "my-auth");
        var settings = Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data");
        Assert.Equal("false", settings["COMFY_ROUTER__OUTPUTS__S3__USE_CHUNK_ENCODING"]);
    }

    [Fact]
    public async Task Render_TwoReplicasOnExistingPostgresSecret_RollingUpdatePdbAndSecretKeyRef()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router:
              replicas: 2
              store: {kind: postgres, existingSecret: router-db, existingSecretKey: url}
              persistence: {accessMode: ReadWriteMany}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var router = manifests.Single("Deployment", "comfy-comfy-router");
        Assert.Equal("2", router.Get("spec.replicas"));
        Assert.Equal("RollingUpdate", router.Get("spec.strategy.type"));
        Assert.Equal("100%", router.Get("spec.strategy.rollingUpdate.maxUnavailable"));
        var container = Tree.Get(router.Root, "spec.template.spec.containers.0");
        Assert.Null(Tree.Get(container, "livenessProbe"));
        Assert.Equal("/readyz", Tree.Get(container, "readinessProbe.httpGet.path"));
        var connection = EnvOf(router)["COMFY_ROUTER__STORE__CONNECTION_STRING"];
        Assert.Equal("router-db", Tree.Get(connection, "valueFrom.secretKeyRef.name"));
        Assert.Equal("url", Tree.Get(connection, "valueFrom.secretKeyRef.key"));
        Assert.Null(Tree.Get(connection, "value"));
        Assert.Equal("postgres", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data")["COMFY_ROUTER__STORE__KIND"]);
        var budget = manifests.Single("PodDisruptionBudget", "comfy-comfy-router");
        Assert.Equal("1", budget.Get("spec.minAvailable"));
        Assert.Null(budget.Get("spec.maxUnavailable"));
        Assert.Equal("AlwaysAllow", budget.Get("spec.unhealthyPodEvictionPolicy"));
        Assert.DoesNotContain(manifests.Items, m => m.Name.Contains("postgresql", StringComparison.Ordinal));
        Assert.DoesNotContain(manifests.OfKind("Secret"), s => s.Name == "comfy-comfy-router-store");
    }

    [Fact]
    public async Task Render_PostgresConnectionStringValue_StoredInSecretNeverInPlainEnv()
    {
        const string ConnectionString = "Host=db.example.com;Database=router;Username=router;Password=pg-s3cret";
        var result = await Helm.TemplateWithValuesAsync($$"""
            router:
              store:
                kind: postgres
                connectionString: "{{ConnectionString}}"
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var secret = Tree.Map(manifests.Single("Secret", "comfy-comfy-router-store").Root, "data");
        Assert.Equal(ConnectionString, Encoding.UTF8.GetString(Convert.FromBase64String((string)secret["connection-string"]!)));
        var router = manifests.Single("Deployment", "comfy-comfy-router");
        var connection = EnvOf(router)["COMFY_ROUTER__STORE__CONNECTION_STRING"];
        Assert.Equal("comfy-comfy-router-store", Tree.Get(connection, "valueFrom.secretKeyRef.name"));
        Assert.Equal("connection-string", Tree.Get(connection, "valueFrom.secretKeyRef.key"));
        Assert.DoesNotContain("pg-s3cret", result.StdOut, StringComparison.Ordinal);

        // One router on PostgreSQL rolls too: the new pod waits as a standby until the old one stops.
        Assert.Equal("RollingUpdate", router.Get("spec.strategy.type"));
        Assert.Equal("1", manifests.Single("PodDisruptionBudget", "comfy-comfy-router").Get("spec.maxUnavailable"));
    }

    [Fact]
    public async Task Render_PostgresActiveReplicas_EveryPodProbedAndRolledOneByOne()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router:
              replicas: 3
              store: {kind: postgres, existingSecret: router-db, replicaMode: active}
              persistence: {enabled: false}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var router = manifests.Single("Deployment", "comfy-comfy-router");
        Assert.Equal("active", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data")["COMFY_ROUTER__STORE__REPLICA_MODE"]);
        Assert.Equal("RollingUpdate", router.Get("spec.strategy.type"));
        Assert.Null(router.Get("spec.strategy.rollingUpdate.maxUnavailable"));
        Assert.Equal("/healthz", Tree.Get(Tree.Get(router.Root, "spec.template.spec.containers.0"), "livenessProbe.httpGet.path"));
    }

    [Fact]
    public async Task Render_ApiKeysAndPassword_StoredInSecretAsKeysFile()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            router: {auth: {password: s3cret-pass, apiKeys: [key-one-0123456789, key-two-0123456789]}}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var secret = manifests.Single("Secret", "comfy-comfy-router-auth");
        Assert.Equal("s3cret-pass", Encoding.UTF8.GetString(Convert.FromBase64String((string)secret.Get("data.password")!)));
        Assert.Equal("key-one-0123456789\nkey-two-0123456789", Encoding.UTF8.GetString(Convert.FromBase64String((string)Tree.Map(secret.Root, "data")["api-keys"]!)));
        Assert.Equal("/etc/comfy-router/auth/api-keys", Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data")["COMFY_ROUTER__API_KEYS_FILE"]);
        Assert.DoesNotContain("s3cret-pass", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_Default_OperatorAsksTheRoutersServiceWithAKeyTheRouterAccepts()
    {
        var result = await Helm.TemplateWithValuesAsync("{}");
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var operatorDeployment = manifests.Single("Deployment", "comfy-comfy-router-operator");
        var routerDeployment = manifests.Single("Deployment", "comfy-comfy-router");
        var service = manifests.Single("Service", "comfy-comfy-router");
        var args = Tree.List(operatorDeployment.Root, "spec.template.spec.containers.0.args").Cast<string>().ToList();

        var url = new Uri(Assert.Single(args, a => a.StartsWith("--router-url=", StringComparison.Ordinal))["--router-url=".Length..]);
        Assert.Equal($"comfy-comfy-router.{service.Namespace ?? "default"}.svc", url.Host);
        Assert.Equal(Tree.Get(service.Root, "spec.ports.0.port")?.ToString(), url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var operatorKey = EnvOf(operatorDeployment)["COMFY_OPERATOR_ROUTER_API_KEY"];
        var routerKey = EnvOf(routerDeployment)["COMFY_ROUTER__API_KEYS__100"];
        Assert.Equal(Tree.Get(operatorKey, "valueFrom.secretKeyRef.name"), Tree.Get(routerKey, "valueFrom.secretKeyRef.name"));
        Assert.Equal(Tree.Get(operatorKey, "valueFrom.secretKeyRef.key"), Tree.Get(routerKey, "valueFrom.secretKeyRef.key"));
        var secret = manifests.Single("Secret", (string)Tree.Get(operatorKey, "valueFrom.secretKeyRef.name")!);
        var key = Encoding.UTF8.GetString(Convert.FromBase64String((string)Tree.Map(secret.Root, "data")[(string)Tree.Get(operatorKey, "valueFrom.secretKeyRef.key")!]!));
        Assert.True(key.Length >= 32, key);
    }

    [Fact]
    public async Task Render_RouterAuthExistingSecretWithoutOperatorKey_OperatorRunsWithoutTheRouter()
    {
        var result = await Helm.TemplateWithValuesAsync("router: {auth: {existingSecret: my-auth}}");
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        var operatorDeployment = manifests.Single("Deployment", "comfy-comfy-router-operator");

        Assert.DoesNotContain(Tree.List(operatorDeployment.Root, "spec.template.spec.containers.0.args").Cast<string>(), a => a.StartsWith("--router-url", StringComparison.Ordinal));
        Assert.DoesNotContain("COMFY_OPERATOR_ROUTER_API_KEY", EnvOf(operatorDeployment).Keys);
        Assert.DoesNotContain("COMFY_ROUTER__API_KEYS__100", EnvOf(manifests.Single("Deployment", "comfy-comfy-router")).Keys);
    }

    [Fact]
    public async Task Render_OperatorReplicasWithoutLeaderElection_Fails()
    {
        var result = await Helm.TemplateWithValuesAsync("operator: {replicas: 2, leaderElection: {enabled: false}}");
        Assert.False(result.Succeeded);
        Assert.Contains("operator.replicas > 1 needs operator.leaderElection.enabled", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_S3StoreWithoutEndpoint_FailsNamingTheValue()
    {
        var result = await Helm.TemplateWithValuesAsync("router: {outputs: {store: S3}}");
        Assert.False(result.Succeeded);
        Assert.Contains("router.outputs.s3.endpoint is required", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_StaticNodeSource_NoRouterRbacAndNodesListed()
    {
        var result = await Helm.TemplateWithValuesAsync("""
            operator: {enabled: false}
            router: {nodeSource: Static, nodes: ["http://gpu[1-4]:8188", "http://spare:8188"]}
            """);
        Assert.True(result.Succeeded, result.ToString());
        var manifests = ManifestSet.Parse(result.StdOut);
        Assert.Empty(manifests.OfKind("ClusterRole"));
        Assert.Empty(manifests.OfKind("Role"));
        Assert.DoesNotContain(manifests.Items, m => m.Name.Contains("operator", StringComparison.Ordinal));
        var settings = Tree.Map(manifests.Single("ConfigMap", "comfy-comfy-router-settings").Root, "data");
        Assert.Equal("http://gpu[1-4]:8188,http://spare:8188", settings["COMFY_ROUTER__NODES"]);
        Assert.DoesNotContain("COMFY_ROUTER__NODE_SOURCE", settings.Keys);
    }

    [Fact]
    public async Task Render_SettingsChanged_RouterPodTemplateChecksumChanges()
    {
        var before = await Helm.TemplateWithValuesAsync("router: {settings: {pendingLimit: 25}}");
        var after = await Helm.TemplateWithValuesAsync("router: {settings: {pendingLimit: 26}}");
        Assert.True(before.Succeeded && after.Succeeded, before + "\n" + after);
        static string Checksum(ProcessResult r) =>
            (string)Tree.Map(ManifestSet.Parse(r.StdOut).Single("Deployment", "comfy-comfy-router").Root, "spec.template.metadata.annotations")["checksum/settings"]!;
        Assert.Matches("^[0-9a-f]{64}$", Checksum(before));
        Assert.NotEqual(Checksum(before), Checksum(after));
    }

    [Fact]
    public async Task Render_Notes_TellHowToReachRouterAndSubmitFirstRun()
    {
        var notes = await Helm.NotesAsync();
        Assert.Contains("kubectl port-forward -n default svc/comfy-comfy-router 8080:8080", notes, StringComparison.Ordinal);
        Assert.Contains("$ROUTER/v1/runs", notes, StringComparison.Ordinal);
        Assert.Contains("\"class_type\":\"EmptyImage\"", notes, StringComparison.Ordinal);
        Assert.Contains("comfy-comfy-router-auth", notes, StringComparison.Ordinal);
        Assert.DoesNotContain("PostgreSQL", notes, StringComparison.Ordinal);

        var kind = await Helm.NotesAsync([RepoPaths.KindValues]);
        Assert.Contains("jsonpath='{.spec.ports[0].nodePort}'", kind, StringComparison.Ordinal);

        var full = await Helm.NotesAsync([RepoPaths.FullValues]);
        Assert.Contains("the in-chart server comfy-comfy-router-postgresql", full, StringComparison.Ordinal);
        Assert.Contains("2 router replicas: one is active and Ready, the others stand by", full, StringComparison.Ordinal);
        Assert.Contains("-l app.kubernetes.io/instance=comfy,app.kubernetes.io/component=router", full, StringComparison.Ordinal);
    }

    internal static Dictionary<string, object?> EnvOf(Manifest deployment) =>
        Tree.List(deployment.Root, "spec.template.spec.containers.0.env").ToDictionary(e => (string)Tree.Get(e, "name")!, e => e);

    private static async Task<string> WriteTempAsync(DirectoryInfo dir, string yaml)
    {
        var path = Path.Combine(dir.FullName, "test-values.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
