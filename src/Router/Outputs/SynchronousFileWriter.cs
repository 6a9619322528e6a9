using Microsoft.Win32.SafeHandles;

namespace ComfyOperator.Router.Outputs;

/// <summary>
/// A write-only stream over a file whose asynchronous writes are synchronous. On Linux a <see cref="FileStream"/>'s
/// "asynchronous" write is the same write call queued to another pool thread (whichever way the file was opened):
/// a hop and a woken thread per chunk, which cost more than a small image takes to write. A response stream's
/// <see cref="Stream.CopyToAsync(Stream, CancellationToken)"/> writes from its own buffer straight into the file.
/// </summary>
internal sealed class SynchronousFileWriter(SafeFileHandle file) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    /// <summary>The bytes written so far.</summary>
    public override long Length => Position;

    public override long Position { get; set; }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        RandomAccess.Write(file, buffer, Position);
        Position += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
