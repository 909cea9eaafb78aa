namespace ProLifeProsper.Domain.Common;

/// <summary>The kind of rule a request broke; the API maps each kind to one HTTP status.</summary>
public enum DomainErrorKind
{
    /// <summary>The input is malformed or out of range (400).</summary>
    Validation,
    /// <summary>The resource does not exist, or belongs to another organization (404).</summary>
    NotFound,
    /// <summary>The request conflicts with the current state (409).</summary>
    Conflict,
    /// <summary>The request is well-formed but breaks a business rule (422).</summary>
    Unprocessable,
}
