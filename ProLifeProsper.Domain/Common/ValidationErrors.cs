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
        if (value.Trim().Length > maxLength) return Add(field, $"'{field}' must be at most {maxLength} characters.");
        return Require(IsPlainText(value), field, $"'{field}' must be plain text: no control, format or invisible characters, bidirectional overrides or broken surrogate pairs.");
    }

    /// <summary>
    /// Text a person could have typed: no control characters (PostgreSQL refuses byte 0; the rest hide in logs and
    /// receipts), no format characters (bidirectional overrides and marks make a name read differently from what is
    /// stored; zero-width ones make invisible names), no line or paragraph separators, no unassigned code points, no lone
    /// surrogates. Zero-width joiners stay: emoji and several scripts need them.
    /// </summary>
    public static bool IsPlainText(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i])) return false;
        }
        foreach (var rune in value.EnumerateRunes())
        {
            switch (System.Text.Rune.GetUnicodeCategory(rune))
            {
                case System.Globalization.UnicodeCategory.Format when rune.Value is not (0x200C or 0x200D):
                case System.Globalization.UnicodeCategory.Control:
                case System.Globalization.UnicodeCategory.LineSeparator:
                case System.Globalization.UnicodeCategory.ParagraphSeparator:
                case System.Globalization.UnicodeCategory.OtherNotAssigned:
                    return false;
            }
        }
        return true;
    }

    /// <summary>An optional instant within the times this system supports (<see cref="UtcClock.Earliest"/> to <see cref="UtcClock.Latest"/>).</summary>
    public ValidationErrors RequireSupportedTime(DateTimeOffset? value, string field) =>
        Require(value is not { } v || UtcClock.IsSupported(v), field,
            $"'{field}' must be between {UtcClock.Earliest:yyyy-MM-dd} and {UtcClock.Latest:yyyy-MM-dd} (UTC).");

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
