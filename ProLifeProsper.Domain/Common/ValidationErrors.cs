namespace ProLifeProsper.Domain.Common;

/// <summary>Collects every problem with an input so the client hears about all of them at once.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    /// <summary>Adds <paramref name="message"/> when <paramref name="condition"/> is false.</summary>
    public ValidationErrors Require(bool condition, string field, string message) => condition ? this : Add(field, message);

    /// <summary>Checks a required, trimmed text of at most <paramref name="maxLength"/> characters.</summary>
    public ValidationErrors RequireText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value)) return Add(field, $"'{field}' is required.");
        return Require(value.Trim().Length <= maxLength, field, $"'{field}' must be at most {maxLength} characters.");
    }

    public ValidationErrors RequireAmount(long? amountMinor, string field) =>
        amountMinor is null
            ? Add(field, $"'{field}' is required.")
            : Require(MoneyRules.IsValidAmount(amountMinor.Value), field,
                $"'{field}' must be a whole number of minor units from {MoneyRules.MinimumAmountMinor} to {MoneyRules.MaximumAmountMinor}.");

    public ValidationErrors RequireCurrency(string? currency, string field) =>
        Require(Currency.Normalize(currency) is not null, field, $"'{field}' must be a known ISO 4217 currency code such as 'USD'.");

    public void ThrowIfAny()
    {
        if (!IsEmpty) throw DomainErrors.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }
}
