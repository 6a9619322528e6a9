namespace ComfyOperator.Router;

/// <summary>
/// The log event ids of this assembly, all in 1000–2999. Each assembly has its own range so that no
/// two messages share an id in one process (the operator loads Kubernetes, Operator, Comfy and
/// Observability; the router loads Router, Comfy, Kubernetes and Observability).
/// </summary>
internal static class EventIds
{
    public const int RangeStart = 1000;
    public const int RangeEnd = 2999;

    public const int ProblemExceptionHandlerUnhandled = 1001;
    public const int CredentialStoreKeysFileLoaded = 1101;
    public const int CredentialStoreKeysFileUnreadable = 1102;
    public const int CredentialStoreDefaultBasicCredentials = 1103;
    public const int RunServiceRecovered = 1201;
    public const int RunServiceFinished = 1202;
    public const int RunHistoryPrunerPruned = 1203;
    public const int RunHistoryPrunerPruneFailed = 1204;
    public const int RunHistoryPrunerOutputDeleteFailed = 1205;
    public const int StaticNodeSourceReloaded = 1301;
    public const int StaticNodeSourceReloadFailed = 1302;
    public const int WorkerRegistryAdded = 1401;
    public const int WorkerRegistryRemoved = 1402;
    public const int WorkerRegistrySourceCordon = 1403;
    public const int NodeAdministrationAdded = 1411;
    public const int NodeAdministrationRemoved = 1412;
    public const int NodeAdministrationDraining = 1413;
    public const int NodeAdministrationCordoned = 1414;
    public const int NodeAdministrationDrainFailed = 1415;
    public const int NodeAdministrationLoaded = 1416;
    public const int HealthProberNoNodes = 1501;
    public const int HealthProberHealthy = 1502;
    public const int HealthProberUnhealthy = 1503;
    public const int AbandonedPromptsDeleted = 1611;
    public const int AbandonedPromptsInterrupted = 1612;
    public const int AbandonedPromptsReloaded = 1613;
    public const int AbandonedPromptsWorkerGone = 1614;
    public const int AbandonedPromptsPersistFailed = 1615;
    public const int AbandonedPromptsForgetFailed = 1616;
    public const int AbandonedPromptsSweepFailed = 1617;
    public const int RunAttemptDispatching = 1701;
    public const int RunAttemptResumed = 1702;
    public const int RunAttemptTimedOut = 1703;
    public const int RunAttemptLost = 1704;
    public const int DispatcherAttemptFailed = 1801;
    public const int DispatcherFollowFailed = 1802;
    public const int RunWebhookNotifierEnqueueFailed = 1901;
    public const int WebhookDispatcherFailed = 1902;
    public const int WebhookDispatcherLoopFailed = 1903;
    public const int SqliteRouterDatabaseMigrationApplied = 1951;
    public const int PostgresRouterDatabaseMigrationApplied = 1952;
    public const int PostgresActiveReplicaLeaseStandingBy = 1953;
    public const int PostgresActiveReplicaLeaseActive = 1954;
    public const int PostgresActiveReplicaLeaseLost = 1955;
    public const int PostgresWorkerLeasesAcquired = 1956;
    public const int PostgresWorkerLeasesReleased = 1957;
    public const int PostgresWorkerLeasesRenewFailed = 1958;
    public const int PostgresReplicaFeedFailed = 1959;
    public const int PostgresReplicaFeedListening = 1960;
    public const int PostgresReplicaNotifierFailed = 1961;
    public const int ReplicaCoordinationLocalOutputs = 1962;
    public const int ReplicaCoordinationInputCache = 1963;
    public const int WorkflowDirectorySourceLoaded = 2101;
    public const int WorkflowDirectorySourceBadFile = 2102;
    public const int WorkflowDirectorySourceMissing = 2103;
    public const int WorkflowDirectorySourceHeldBack = 2104;
    public const int WorkerModelInventoryRefreshFailed = 2201;
    public const int WorkerNodeClassesRefreshFailed = 2202;
    public const int KubernetesNodeSourceNodes = 2301;
    public const int KubernetesNodeSourceConfigMap = 2302;
    public const int RunInputResolverDownloaded = 2401;
    public const int InputCacheDownloaded = 2402;
    public const int InputCacheEvicted = 2403;
    public const int InputCacheOverLimit = 2404;
    public const int InputCacheIndexUnreadable = 2405;
    public const int InputCacheIndexRebuilt = 2406;
    public const int InputCacheIndexFlushFailed = 2407;
    public const int S3OutputStoreRetry = 2501;
    public const int WorkerDiskCleanerDeleted = 2601;
    public const int WorkerDiskCleanerFailed = 2602;
    public const int WorkerDiskCleanerRefused = 2603;
    public const int WorkerDiskCleanerFileRefused = 2604;
    public const int WorkerDiskCleanerGaveUp = 2605;
    public const int WorkerDiskCleanerRecovered = 2606;
    public const int WorkerDiskCleanerRecoveryFailed = 2607;
    public const int FrontEndProxyWorkerFailed = 2651;
    public const int FrontEndProxyWriteFailed = 2660;
    public const int FrontEndProxyWriteAnsweredError = 2661;
    public const int RunServiceLiveEventsWriteFailed = 2700;
    public const int RunOutputFetcherDiscardFailed = 2701;
    public const int IdleMemoryTrimmed = 2731;
}
