using ProLifeProsper.Api.Tests.Infrastructure;

namespace ProLifeProsper.Api.Tests.Apis;

// The same API contract, with payments routed to DynamoDB (dynalite) by configuration alone.

public sealed class PaymentsApiOnDynamoDbTests(HighScaleApiFactory factory) : PaymentsApiTests<HighScaleApiFactory>(factory);

public sealed class TenantIsolationApiOnDynamoDbTests(HighScaleApiFactory factory) : TenantIsolationApiTests<HighScaleApiFactory>(factory);

public sealed class IdempotencyApiOnDynamoDbTests(HighScaleApiFactory factory) : IdempotencyApiTests<HighScaleApiFactory>(factory)
{
    protected override Task<long> CountStoredPaymentsAsync(Guid organizationId) => DynamoDbPaymentCount.OfAsync(Factory.TablePrefix, organizationId);
}
