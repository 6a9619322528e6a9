using System.Diagnostics;
using System.Globalization;
using ComfyOperator.Router.Inputs;
using ComfyOperator.Router.Outputs;
using ComfyOperator.Testing.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace ComfyOperator.Router.Bench;

/// <summary>
/// Issue 7 §5 figures: download throughput into the input cache (the real <see cref="InputCache"/>
/// through <see cref="SafeHttpDownloader"/>, hashing included) against a plain <see cref="HttpClient"/>
/// copy of the same bytes to a file, both from a Kestrel file server on 127.0.0.1; the cache-hit
/// path cost; ten concurrent callers for one new URL; upload throughput to s3rver through
/// <see cref="S3OutputStore"/>. Prints figures; asserts nothing about time.
/// </summary>
internal static class IoBench
{
    private const int MiB = 1024 * 1024;

    public static async Task RunAsync(CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), "comfy-iobench-" + Guid.NewGuid().ToString("N"));
        var served = Path.Combine(root, "served");
        Directory.CreateDirectory(served);
        try
        {
            Console.WriteLine($"io bench: {Environment.ProcessorCount} cores visible, temp {Path.GetTempPath()}");
            await WriteRandomFileAsync(Path.Combine(served, "256m.bin"), 256 * MiB, 1, cancellationToken);
            await WriteRandomFileAsync(Path.Combine(served, "16m.bin"), 16 * MiB, 2, cancellationToken);
            await WriteRandomFileAsync(Path.Combine(served, "1m.bin"), MiB, 3, cancellationToken);
            var gets = new int[1];
            var (app, address) = await LoopbackServer.StartAsync(
                app => app.MapGet("/files/{name}", (string name) =>
                {
                    Interlocked.Increment(ref gets[0]);
                    return TypedResults.PhysicalFile(Path.Combine(served, Path.GetFileName(name)), "application/octet-stream");
                }),
                cancellationToken);
            await using (app)
            {
                var baseAddress = address.ToString().TrimEnd('/');
                await DownloadThroughputAsync(baseAddress, root, cancellationToken);
                await HitPathAsync(baseAddress, root, gets, cancellationToken);
            }

            await UploadThroughputAsync(root, cancellationToken);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task DownloadThroughputAsync(string baseAddress, string root, CancellationToken cancellationToken)
    {
        using var downloader = new SafeHttpDownloader(Options(Path.Combine(root, "unused")));
        using var plain = new HttpClient(new SocketsHttpHandler { UseProxy = false, AutomaticDecompression = System.Net.DecompressionMethods.None });

        // Warm-up: JIT, connection pools, the served files in the page cache.
        foreach (var name in new[] { "1m.bin", "16m.bin", "256m.bin" })
        {
            await PlainCopyAsync(plain, $"{baseAddress}/files/{name}", root, cancellationToken);
            await CacheDownloadAsync(downloader, $"{baseAddress}/files/{name}", root, cancellationToken);
        }

        Console.WriteLine();
        Console.WriteLine("Download over loopback (Kestrel on 127.0.0.1 -> file); median of N, alternating order:");
        Console.WriteLine("  size     N  plain HttpClient MiB/s  cache (SafeHttpDownloader+sha256+commit) MiB/s  ratio cache/plain");
        foreach (var (name, size, repetitions) in new[] { ("256m.bin", 256, 4), ("16m.bin", 16, 12) })
        {
            var plainRates = new List<double>();
            var cacheRates = new List<double>();
            for (var i = 0; i < repetitions; i++)
            {
                var url = $"{baseAddress}/files/{name}";
                if (i % 2 == 0)
                {
                    plainRates.Add(size / await PlainCopyAsync(plain, url, root, cancellationToken));
                    cacheRates.Add(size / await CacheDownloadAsync(downloader, url, root, cancellationToken));
                }
                else
                {
                    cacheRates.Add(size / await CacheDownloadAsync(downloader, url, root, cancellationToken));
                    plainRates.Add(size / await PlainCopyAsync(plain, url, root, cancellationToken));
                }
            }

            var plainMedian = Median(plainRates);
            var cacheMedian = Median(cacheRates);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {size,3} MiB {repetitions,3}  {plainMedian,10:F0} (min {plainRates.Min(),4:F0}, max {plainRates.Max(),4:F0})  {cacheMedian,14:F0} (min {cacheRates.Min(),4:F0}, max {cacheRates.Max(),4:F0})  {cacheMedian / plainMedian,20:F2}"));
        }

        Sha256Rate();
    }

    /// <summary>SHA-256 over in-memory bytes (the hashing the cache adds to a plain copy), to attribute the ratio.</summary>
    private static void Sha256Rate()
    {
        var buffer = new byte[MiB];
        Random.Shared.NextBytes(buffer);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(buffer);
        const int total = 256;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            hash.AppendData(buffer);
        }

        _ = hash.GetHashAndReset();
        var rate = total / Stopwatch.GetElapsedTime(start).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  (SHA-256 alone, in memory, 1 MiB blocks: {rate:F0} MiB/s — the cache hashes every byte it writes)"));
    }

    private static async Task HitPathAsync(string baseAddress, string root, int[] gets, CancellationToken cancellationToken)
    {
        using var downloader = new SafeHttpDownloader(Options(Path.Combine(root, "unused")));
        var directory = Path.Combine(root, "hit-cache");
        var cache = new InputCache(Options(directory), downloader, TimeProvider.System, NullLogger<InputCache>.Instance);
        var url = $"{baseAddress}/files/1m.bin";
        _ = await cache.GetOrDownloadAsync("bench", url, InputKind.File, null, pin: false, cancellationToken);

        Console.WriteLine();
        Console.WriteLine("Cache hit path (GetOrDownloadAsync of a cached URL; each hit updates last-use and rewrites index.json):");
        await MeasureHitsAsync(cache, url, "1 entry in the index", cancellationToken);

        // A fuller index: every hit serialises the whole index, so its size is part of the hit cost.
        for (var i = 0; i < 999; i++)
        {
            using var content = new MemoryStream(BitConverter.GetBytes(i));
            _ = await cache.PutAsync("bench", content, ".bin", null, pin: false, cancellationToken);
        }

        await MeasureHitsAsync(cache, url, "1,000 entries in the index", cancellationToken);

        // Ten concurrent callers for one URL the cache has not seen: one download, one GET.
        var fresh = new InputCache(Options(Path.Combine(root, "single-flight-cache")), downloader, TimeProvider.System, NullLogger<InputCache>.Instance);
        var before = Volatile.Read(ref gets[0]);
        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            fresh.GetOrDownloadAsync("bench", $"{baseAddress}/files/16m.bin?single-flight", InputKind.File, null, pin: false, cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var sameFile = results.All(result => result.FileName == results[0].FileName);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  10 concurrent callers, new 16 MiB URL: downloads = {fresh.Downloads}, server GETs = {Volatile.Read(ref gets[0]) - before}, same file = {sameFile}, all done in {elapsed.TotalMilliseconds:F0} ms"));
    }

    private static async Task MeasureHitsAsync(InputCache cache, string url, string label, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 200; i++)
        {
            _ = await cache.GetOrDownloadAsync("bench", url, InputKind.File, null, pin: false, cancellationToken);
        }

        // At most 2,000 calls or 5 s, whichever comes first, to keep the bench short on a loaded machine.
        var samples = new List<double>();
        var budget = Stopwatch.StartNew();
        while (samples.Count < 2000 && budget.Elapsed < TimeSpan.FromSeconds(5))
        {
            var start = Stopwatch.GetTimestamp();
            var hit = await cache.GetOrDownloadAsync("bench", url, InputKind.File, null, pin: false, cancellationToken);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            if (hit.Downloaded)
            {
                throw new InvalidOperationException("expected a cache hit");
            }
        }

        samples.Sort();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {label,-28} n={samples.Count,5}  p50 {Percentiles.Of(samples, 50),8:F1} µs  p99 {Percentiles.Of(samples, 99),8:F1} µs  max {samples[^1],9:F1} µs"));
    }

    private static async Task UploadThroughputAsync(string root, CancellationToken cancellationToken)
    {
        var sources = Path.Combine(root, "upload");
        Directory.CreateDirectory(sources);
        var big = Path.Combine(sources, "64m.bin");
        var small = Path.Combine(sources, "8m.bin");
        await WriteRandomFileAsync(big, 64 * MiB, 4, cancellationToken);
        await WriteRandomFileAsync(small, 8 * MiB, 5, cancellationToken);

        await using var s3 = await S3rverFixture.StartAsync("bench", cancellationToken);
        const long threshold = 32L * MiB;
        const long partSize = 16L * MiB;
        using var store = new S3OutputStore(
            new S3OutputOptions
            {
                ServiceUrl = s3.ServiceUrl.ToString(),
                Bucket = s3.Bucket,
                Prefix = "bench",
                AccessKey = S3rverFixture.AccessKey,
                SecretKey = S3rverFixture.SecretKey,
                UseChunkEncoding = false,
                MultipartThresholdBytes = threshold,
                PartSizeBytes = partSize,
                // 0 would be clearer but S3OutputStore passes it to Polly, which requires at least 1;
                // retries are counted below so a retried upload cannot hide in the figures.
                UploadRetries = 1,
                RequestTimeout = TimeSpan.FromSeconds(60),
            },
            TimeProvider.System,
            NullLogger<S3OutputStore>.Instance);

        var run = 0;
        async Task<double> UploadAsync(string path)
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
            await using (file)
            {
                var start = Stopwatch.GetTimestamp();
                _ = await store.SaveAsync($"run{run++}", Path.GetFileName(path), file, cancellationToken);
                return Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        }

        _ = await UploadAsync(small); // warm-up
        Console.WriteLine();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Upload to s3rver 3.7.1 (node, 127.0.0.1) through S3OutputStore.SaveAsync (stage to temp file + upload; multipart above {threshold / MiB} MiB, {partSize / MiB} MiB parts):"));
        foreach (var (path, size, repetitions, mode) in new[] { (big, 64, 3, "multipart, 4 parts"), (small, 8, 6, "single PUT") })
        {
            var rates = new List<double>();
            for (var i = 0; i < repetitions; i++)
            {
                rates.Add(size / await UploadAsync(path));
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {size,3} MiB ({mode,-18}) N={repetitions}  median {Median(rates),6:F0} MiB/s  (min {rates.Min(),4:F0}, max {rates.Max(),4:F0})"));
        }

        Console.WriteLine($"  retried attempts during the upload runs: {store.FailedAttempts}");
    }

    private static async Task<double> PlainCopyAsync(HttpClient client, string url, string root, CancellationToken cancellationToken)
    {
        var target = Path.Combine(root, "plain-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = Stopwatch.GetTimestamp();
            using (var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
            {
                response.EnsureSuccessStatusCode();
                var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using (body)
                {
                    var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                    await using (file)
                    {
                        await body.CopyToAsync(file, cancellationToken);
                    }
                }
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        finally
        {
            File.Delete(target);
        }
    }

    private static async Task<double> CacheDownloadAsync(SafeHttpDownloader downloader, string url, string root, CancellationToken cancellationToken)
    {
        // A fresh, empty cache each time, so the download is a miss (the cache is content-addressed).
        var directory = Path.Combine(root, "cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new InputCache(Options(directory), downloader, TimeProvider.System, NullLogger<InputCache>.Instance);
            var start = Stopwatch.GetTimestamp();
            var result = await cache.GetOrDownloadAsync("bench", url, InputKind.File, null, pin: false, cancellationToken);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!result.Downloaded || result.Size != new FileInfo(result.FullPath).Length)
            {
                throw new InvalidOperationException("expected a complete download");
            }

            return seconds;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static InputCacheOptions Options(string directory)
    {
        var options = new InputCacheOptions { CacheDirectory = directory };
        options.AllowedNetworks.Add("127.0.0.1/32");
        return options;
    }

    private static async Task WriteRandomFileAsync(string path, int size, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var buffer = new byte[MiB];
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await using (file)
        {
            for (var written = 0; written < size; written += buffer.Length)
            {
                random.NextBytes(buffer);
                await file.WriteAsync(buffer, cancellationToken);
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return Percentiles.Of(sorted, 50);
    }
}
