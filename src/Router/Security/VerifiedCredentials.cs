using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Claims;

namespace ComfyOperator.Router.Security;

/// <summary>
/// The credentials verified recently, so that a client sending the same key on every request costs one
/// SHA-256 and a dictionary look-up, not a header parse, a database query and a new principal. Only the
/// credential's hash is kept (compared in constant time), only successes are remembered, and the number
/// of entries is bounded. An entry is good until <see cref="Invalidate"/> (a key revoked through
/// <c>/v1/keys</c>) or until the keys file is re-read (<see cref="CredentialStore.KeysFileGeneration"/>).
/// </summary>
internal sealed class VerifiedCredentials
{
    /// <summary>More credentials than this in use at once starts the cache again: cheap, and nothing to tune.</summary>
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<byte[], Entry> _entries = new(HashComparer.Instance);
    private long _generation;
    private int _count;

    /// <summary>Changes whenever a credential may have stopped working; read it before checking a credential.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The caller for this credential hash, when it was verified since the last change of either generation.</summary>
    public ClaimsPrincipal? Find(byte[] credentialHash, long keysFileGeneration) =>
        _entries.TryGetValue(credentialHash, out var entry) && entry.Generation == Generation && entry.KeysFileGeneration == keysFileGeneration
            ? entry.Principal
            : null;

    /// <param name="generation">
    /// <see cref="Generation"/> as read before the credential was checked: a revocation in between makes the
    /// entry stale at once, so a key revoked while its check ran is never remembered as good.
    /// </param>
    public void Remember(byte[] credentialHash, long generation, long keysFileGeneration, ClaimsPrincipal principal)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _count, 1);
        }

        _entries[credentialHash] = new Entry(generation, keysFileGeneration, principal);
    }

    /// <summary>Forgets every credential: the next request with each is checked again.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
        Interlocked.Exchange(ref _count, 0);
    }

    public int Count => _entries.Count;

    private sealed record Entry(long Generation, long KeysFileGeneration, ClaimsPrincipal Principal);

    /// <summary>SHA-256 hashes: the first bytes are a good hash code already; equality in constant time.</summary>
    private sealed class HashComparer : IEqualityComparer<byte[]>
    {
        public static readonly HashComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) =>
            x is not null && y is not null && x.Length == y.Length && SecretComparer.Matches(x, y);

        public int GetHashCode(byte[] obj) => BinaryPrimitives.ReadInt32LittleEndian(obj);
    }
}
