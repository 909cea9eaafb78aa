using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using ProLifeProsper.Api.Auth;

namespace ProLifeProsper.Api.RateLimiting;

/// <summary>Whose budget a request spends: its organization's, the admin key's, or (without a valid key) its client address's.</summary>
public readonly record struct RequestPartition(RequestPartition.Kinds Kind, Guid OrganizationId, IPAddress? Address)
{
    public enum Kinds { Organization, Admin, ClientAddress }

    public static RequestPartition Of(HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            if (user.IsInRole(ApiKeyDefaults.AdminRole)) return new RequestPartition(Kinds.Admin, Guid.Empty, null);
            if (Guid.TryParse(user.FindFirstValue(ApiKeyDefaults.OrganizationClaim), out var organizationId))
                return new RequestPartition(Kinds.Organization, organizationId, null);
        }
        return ForAddress(context);
    }

    /// <summary>
    /// The client address as the connection shows it (behind a proxy, enable forwarded headers so it is the client's). An IPv6
    /// client is counted by its /64, which is what one subscriber usually holds: per address, it could rotate without limit.
    /// </summary>
    public static RequestPartition ForAddress(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();
        else if (address is { AddressFamily: AddressFamily.InterNetworkV6 })
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out _);
            bytes[8..].Clear();
            address = new IPAddress(bytes);
        }
        return new RequestPartition(Kinds.ClientAddress, Guid.Empty, address);
    }
}
