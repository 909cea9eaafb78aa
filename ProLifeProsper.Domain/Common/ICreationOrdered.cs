namespace ProLifeProsper.Domain.Common;

/// <summary>An entity listed newest first by (<see cref="CreatedAt"/>, <see cref="Id"/>).</summary>
public interface ICreationOrdered
{
    Guid Id { get; }
    DateTimeOffset CreatedAt { get; }
}
