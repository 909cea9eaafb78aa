using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class CampaignTotals : Migration
    {
        // Campaign progress kept as payments change, by the database itself: every write of payment_transactions (creates,
        // refunds, settlements, copies from DynamoDB, whatever path) adjusts its campaign's row in the same transaction, so a
        // campaign view reads one row instead of summing every payment of the campaign. Statement triggers with transition
        // tables: a batch of creates (group commit) updates each campaign's row once, in key order (no deadlock between
        // writers), and a write that changes nothing a total counts leaves the row alone.
        private const string CountedStatuses = "('succeeded', 'partially_refunded')";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE IF NOT EXISTS campaign_totals (
                    organization_id uuid NOT NULL,
                    campaign_id uuid NOT NULL,
                    raised_minor numeric NOT NULL,
                    payments bigint NOT NULL,
                    PRIMARY KEY (organization_id, campaign_id));
                """);
            migrationBuilder.Sql($$"""
                CREATE OR REPLACE FUNCTION campaign_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO campaign_totals AS t (organization_id, campaign_id, raised_minor, payments)
                        SELECT organization_id, campaign_id, sum(amount_minor - refunded_amount_minor), count(*)
                        FROM new_rows WHERE status IN {{CountedStatuses}}
                        GROUP BY organization_id, campaign_id ORDER BY organization_id, campaign_id
                        ON CONFLICT (organization_id, campaign_id) DO UPDATE
                            SET raised_minor = t.raised_minor + excluded.raised_minor, payments = t.payments + excluded.payments;
                    ELSIF TG_OP = 'UPDATE' THEN
                        INSERT INTO campaign_totals AS t (organization_id, campaign_id, raised_minor, payments)
                        SELECT organization_id, campaign_id, sum(raised), sum(counted) FROM (
                            SELECT organization_id, campaign_id, amount_minor - refunded_amount_minor AS raised, 1 AS counted
                            FROM new_rows WHERE status IN {{CountedStatuses}}
                            UNION ALL
                            SELECT organization_id, campaign_id, -(amount_minor - refunded_amount_minor), -1
                            FROM old_rows WHERE status IN {{CountedStatuses}}) change
                        GROUP BY organization_id, campaign_id HAVING sum(raised) <> 0 OR sum(counted) <> 0
                        ORDER BY organization_id, campaign_id
                        ON CONFLICT (organization_id, campaign_id) DO UPDATE
                            SET raised_minor = t.raised_minor + excluded.raised_minor, payments = t.payments + excluded.payments;
                    ELSIF TG_OP = 'DELETE' THEN
                        INSERT INTO campaign_totals AS t (organization_id, campaign_id, raised_minor, payments)
                        SELECT organization_id, campaign_id, -sum(amount_minor - refunded_amount_minor), -count(*)
                        FROM old_rows WHERE status IN {{CountedStatuses}}
                        GROUP BY organization_id, campaign_id ORDER BY organization_id, campaign_id
                        ON CONFLICT (organization_id, campaign_id) DO UPDATE
                            SET raised_minor = t.raised_minor + excluded.raised_minor, payments = t.payments + excluded.payments;
                    ELSE
                        TRUNCATE campaign_totals;
                    END IF;
                    RETURN NULL;
                END
                $fn$;
                """);
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS campaign_totals_on_insert ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_update ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_delete ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_truncate ON payment_transactions;
                CREATE TRIGGER campaign_totals_on_insert AFTER INSERT ON payment_transactions
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_totals_apply();
                CREATE TRIGGER campaign_totals_on_update AFTER UPDATE ON payment_transactions
                    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_totals_apply();
                CREATE TRIGGER campaign_totals_on_delete AFTER DELETE ON payment_transactions
                    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_totals_apply();
                CREATE TRIGGER campaign_totals_on_truncate AFTER TRUNCATE ON payment_transactions
                    FOR EACH STATEMENT EXECUTE FUNCTION campaign_totals_apply();
                """);
            // The payments already there, counted once under a lock that holds writes back meanwhile (a write before it is in
            // the count, one after it goes through the triggers): on a large table, run this migration when writes are few.
            migrationBuilder.Sql($"""
                LOCK TABLE payment_transactions IN SHARE ROW EXCLUSIVE MODE;
                TRUNCATE campaign_totals;
                INSERT INTO campaign_totals (organization_id, campaign_id, raised_minor, payments)
                SELECT organization_id, campaign_id, sum(amount_minor - refunded_amount_minor), count(*)
                FROM payment_transactions WHERE status IN {CountedStatuses} GROUP BY organization_id, campaign_id;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS campaign_totals_on_insert ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_update ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_delete ON payment_transactions;
                DROP TRIGGER IF EXISTS campaign_totals_on_truncate ON payment_transactions;
                DROP FUNCTION IF EXISTS campaign_totals_apply();
                DROP TABLE IF EXISTS campaign_totals;
                """);
        }
    }
}
