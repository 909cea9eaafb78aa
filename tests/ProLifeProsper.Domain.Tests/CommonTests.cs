using ProLifeProsper.Domain.Campaigns;
using ProLifeProsper.Domain.Common;
using ProLifeProsper.Domain.Donors;
using ProLifeProsper.Domain.Organizations;

namespace ProLifeProsper.Domain.Tests;

public sealed class CommonTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("USD", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KWD", 3)]
    [InlineData("EUR", 2)]
    public void Currencies_know_their_minor_unit(string code, int exponent) => Assert.Equal(exponent, Currency.MinorUnitExponent(code));

    [Theory]
    [InlineData("usd", "USD")]
    [InlineData(" eur ", "EUR")]
    [InlineData("XYZ", null)]
    [InlineData("XTS", null)]
    [InlineData("US", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Currency_codes_are_normalised_or_refused(string? input, string? expected) => Assert.Equal(expected, Currency.Normalize(input));

    [Fact]
    public void Timestamps_are_truncated_to_microseconds_in_utc()
    {
        var value = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var truncated = UtcClock.Truncate(value);
        Assert.Equal(TimeSpan.Zero, truncated.Offset);
        Assert.Equal(0, truncated.Ticks % TimeSpan.TicksPerMicrosecond);
        Assert.Equal(8, truncated.Hour);
        Assert.True(value - truncated < TimeSpan.FromTicks(TimeSpan.TicksPerMicrosecond));
    }

    [Fact]
    public void Cursors_round_trip_and_garbage_is_refused()
    {
        var cursor = new PageCursor(Now, Guid.CreateVersion7());
        Assert.True(PageCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
        foreach (var garbage in new[] { "", "abc", "!!!!", new string('A', 200), "MTIzOm5vdGFndWlk" })
            Assert.False(PageCursor.TryDecode(garbage, out _));
    }

    [Fact]
    public void Organization_keys_are_random_and_hashed()
    {
        var (organization, key) = Organization.Create("Hope", Now);
        var (_, other) = Organization.Create("Hope", Now);
        Assert.NotEqual(key, other);
        Assert.StartsWith(OrganizationApiKey.Prefix, key);
        var stored = Assert.Single(organization.ApiKeys);
        Assert.Equal(OrganizationApiKey.Hash(key), stored.KeyHash);
        Assert.DoesNotContain(key, stored.KeyHash);
        Assert.True(OrganizationApiKey.IsWellFormed(key));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plp_org_")]
    [InlineData("plp_org_notarealkey")]
    [InlineData("plp_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one character short
    [InlineData("plp_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // padding is not base64url here
    [InlineData("plp_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    [InlineData("xyz_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_keys_are_recognised_without_a_lookup(string key) => Assert.False(OrganizationApiKey.IsWellFormed(key));

    [Fact]
    public void A_rotation_gives_the_old_key_an_overlap_and_a_revocation_ends_it()
    {
        var (organization, _) = Organization.Create("Hope", Now);
        var first = Assert.Single(organization.ApiKeys);
        var (second, plain) = organization.RotateApiKey(TimeSpan.FromHours(1), Now);

        Assert.Equal(OrganizationApiKey.Hash(plain), second.KeyHash);
        Assert.Equal(Now.AddHours(1), first.ExpiresAt);
        Assert.True(first.IsActiveAt(Now.AddMinutes(59)));
        Assert.False(first.IsActiveAt(Now.AddHours(1)));
        Assert.Null(second.ExpiresAt);

        // A later rotation with a longer overlap does not extend the old key's end.
        organization.RotateApiKey(TimeSpan.FromDays(2), Now.AddMinutes(1));
        Assert.Equal(Now.AddHours(1), first.ExpiresAt);
        Assert.Equal(Now.AddMinutes(1).AddDays(2), second.ExpiresAt);

        organization.RevokeApiKey(second.Id, Now.AddMinutes(2));
        Assert.False(second.IsActiveAt(Now.AddMinutes(2)));
        Assert.Throws<DomainException>(() => organization.RevokeApiKey(Guid.CreateVersion7(), Now));
        Assert.Throws<DomainException>(() => organization.RotateApiKey(TimeSpan.FromDays(31), Now));
        Assert.Throws<DomainException>(() => organization.RotateApiKey(TimeSpan.FromSeconds(-1), Now));
    }

    [Fact]
    public void Campaigns_accept_donations_only_while_active_and_in_their_dates()
    {
        var campaign = Campaign.Create(Guid.CreateVersion7(), "Gala", 1_000, "usd", Now, Now.AddDays(1), null, Now);
        Assert.Equal("USD", campaign.Currency);
        Assert.True(campaign.AcceptsDonationsAt(Now));
        Assert.False(campaign.AcceptsDonationsAt(Now.AddDays(1)));
        Assert.False(campaign.AcceptsDonationsAt(Now.AddSeconds(-1)));
        var closed = Campaign.Create(Guid.CreateVersion7(), "Old", 1_000, "USD", null, null, CampaignStatus.Closed, Now);
        Assert.False(closed.AcceptsDonationsAt(Now));
    }

    [Theory]
    [InlineData("a@example.org", true)]
    [InlineData("First.Last+tag@sub.example.org", true)]
    [InlineData("not-an-email", false)]
    [InlineData("Ann <a@example.org>", false)]
    [InlineData("@example.org", false)]
    public void Donor_emails_are_checked(string email, bool valid)
    {
        if (valid) Assert.Equal(email.ToLowerInvariant(), Donor.Create(Guid.CreateVersion7(), email, "Ann", Now).NormalizedEmail);
        else Assert.Throws<DomainException>(() => Donor.Create(Guid.CreateVersion7(), email, "Ann", Now));
    }
}
