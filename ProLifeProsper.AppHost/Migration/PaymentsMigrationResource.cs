namespace ProLifeProsper.AppHost.Migration;

/// <summary>
/// The payments migration as a dashboard resource, shown under the API: its state is the routing phase, its properties
/// the backfill's progress, the outbox depth and the reconciler's next step, and its commands are the migration's steps.
/// It runs nothing itself: it reads and drives the API's admin migration endpoints.
/// </summary>
public sealed class PaymentsMigrationResource(string name) : Resource(name);
