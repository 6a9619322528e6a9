using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace ComfyOperator.Router.Security;

/// <summary>
/// Data protection's key repository over <see cref="IDataProtectionKeyStore"/>. The repository interface
/// is synchronous; it is called when the key ring is first needed, when a key is created, and at the
/// key ring's refresh (a day, or a key it does not know), so blocking on the store there is rare.
/// </summary>
internal sealed class DatabaseXmlRepository(IDataProtectionKeyStore store, TimeProvider time) : IXmlRepository
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(30);

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var timeout = new CancellationTokenSource(StoreTimeout);
        var stored = store.ListAsync(timeout.Token).GetAwaiter().GetResult();
        return [.. stored.Select(xml => XElement.Parse(xml))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var timeout = new CancellationTokenSource(StoreTimeout);
        var name = string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName;
        store.AddAsync(name, element.ToString(SaveOptions.DisableFormatting), time.GetUtcNow(), timeout.Token).GetAwaiter().GetResult();
    }
}
