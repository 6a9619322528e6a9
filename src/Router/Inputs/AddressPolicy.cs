using System.Net;
using System.Net.Sockets;

namespace ComfyOperator.Router.Inputs;

/// <summary>
/// Which addresses the router may connect to for user-supplied URLs (SSRF guard): public unicast
/// only, unless an address falls in an explicitly allow-listed CIDR range.
/// </summary>
internal sealed class AddressPolicy
{
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("64:ff9b::/96"),
    ];

    private readonly IPNetwork[] _allowed;

    public AddressPolicy(IEnumerable<string> allowedNetworks)
    {
        _allowed = allowedNetworks.Select(Parse).ToArray();
    }

    /// <summary>Null when the address may be used, otherwise why not.</summary>
    public string? Check(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (_allowed.Any(network => network.Contains(address)))
        {
            return null;
        }

        if (address.Equals(IPAddress.Parse("169.254.169.254")) || address.Equals(IPAddress.Parse("fd00:ec2::254")))
        {
            return $"address {address} is a cloud metadata endpoint";
        }

        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            return $"address {address} is not an IP address";
        }

        var index = Array.FindIndex(Forbidden, network => network.Contains(address));
        return index < 0 ? null : $"address {address} is private, loopback, link-local or otherwise not public ({Forbidden[index]})";
    }

    private static IPNetwork Parse(string cidr)
    {
        if (IPNetwork.TryParse(cidr.Trim(), out var network))
        {
            return network;
        }

        if (IPAddress.TryParse(cidr.Trim(), out var single))
        {
            return new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        throw new FormatException($"'{cidr}' is not a CIDR range or IP address.");
    }
}
