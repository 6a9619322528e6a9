using Microsoft.Extensions.Logging;

namespace ComfyOperator.Comfy.Sessions;

internal static partial class SessionLog
{
    [LoggerMessage(EventId = EventIds.SessionLogConnected, Level = LogLevel.Information, Message = "ComfyUI socket {Uri} connected as client {ClientId}")]
    public static partial void Connected(ILogger logger, Uri uri, string clientId);

    [LoggerMessage(EventId = EventIds.SessionLogDisconnected, Level = LogLevel.Warning, Message = "ComfyUI socket {Uri} lost; reconnecting in {Delay} (attempt {Attempt})")]
    public static partial void Disconnected(ILogger logger, Uri uri, TimeSpan delay, int attempt, Exception? error);

    [LoggerMessage(EventId = EventIds.SessionLogBadFrame, Level = LogLevel.Warning, Message = "ComfyUI socket {Uri} sent a frame that is not a message; skipped")]
    public static partial void BadFrame(ILogger logger, Uri uri, Exception error);

    [LoggerMessage(EventId = EventIds.SessionLogPollingHistory, Level = LogLevel.Information, Message = "Events of prompt {PromptId} may be lost; polling history")]
    public static partial void PollingHistory(ILogger logger, string promptId);

    [LoggerMessage(EventId = EventIds.SessionLogPollFailed, Level = LogLevel.Debug, Message = "Polling history of prompt {PromptId} failed")]
    public static partial void PollFailed(ILogger logger, string promptId, Exception error);

    [LoggerMessage(EventId = EventIds.SessionLogHistoryFetchFailed, Level = LogLevel.Warning, Message = "Fetching history of finished prompt {PromptId} failed")]
    public static partial void HistoryFetchFailed(ILogger logger, string promptId, Exception error);

    [LoggerMessage(EventId = EventIds.SessionLogCancelFailed, Level = LogLevel.Warning, Message = "Cancelling prompt {PromptId} on the worker failed")]
    public static partial void CancelFailed(ILogger logger, string promptId, Exception error);
}
