using System.Buffers;

namespace ComfyOperator.Router.Inputs;

/// <summary>Copies an input's bytes, refusing the input as soon as it grows past its limit.</summary>
internal static class BoundedCopy
{
    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> and returns the bytes copied;
    /// past <paramref name="maxBytes"/> it throws <see cref="InputRefusedException"/> saying that
    /// <paramref name="what"/> ("the file", "the download") exceeds the limit.
    /// </summary>
    public static async Task<long> CopyAsync(string inputName, string what, Stream source, Stream destination, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    throw new InputRefusedException(inputName, $"{what} exceeds the limit of {maxBytes} bytes");
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
