using System.Net.Mail;
using ProLifeProsper.Domain.Common;

namespace ProLifeProsper.Domain.Donors;

/// <summary>A person who gives; the email is unique within one organization (case-insensitive).</summary>
public sealed class Donor : ICreationOrdered
{
    public const int MaxEmailLength = 254;
    public const int MaxNameLength = 200;

    private Donor() { Email = ""; NormalizedEmail = ""; Name = ""; }

    public Guid Id { get; private set; }
    public Guid OrganizationId { get; private set; }
    public string Email { get; private set; }

    /// <summary>Lower-case email: the uniqueness key, so "Ann@X.org" and "ann@x.org" are one donor.</summary>
    public string NormalizedEmail { get; private set; }
    public string Name { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public static Donor Create(Guid organizationId, string? email, string? name, DateTimeOffset now)
    {
        var errors = new ValidationErrors()
            .RequireText(email, "email", MaxEmailLength)
            .RequireText(name, "name", MaxNameLength);
        if (!string.IsNullOrWhiteSpace(email) && !IsEmail(email.Trim()))
            errors.Add("email", "'email' must be a valid email address.");
        errors.ThrowIfAny();

        var trimmed = email!.Trim();
        return new Donor
        {
            Id = Guid.CreateVersion7(now),
            OrganizationId = organizationId,
            Email = trimmed,
            NormalizedEmail = NormalizeEmail(trimmed),
            Name = name!.Trim(),
            CreatedAt = now,
        };
    }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    private static bool IsEmail(string value) =>
        MailAddress.TryCreate(value, out var address) && address.Address == value && value.IndexOf('@') > 0;
}
