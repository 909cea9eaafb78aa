using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class BackfillOrderIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Concurrently: payment writes go on while a large table is indexed (the schema migrator gives it an hour). A build
            // cut off leaves an INVALID index that IF NOT EXISTS would take as done: it is dropped first.
            migrationBuilder.Sql(
                "DROP INDEX CONCURRENTLY IF EXISTS ix_payment_transactions_created_at_transaction_id_invalid;", suppressTransaction: true);
            migrationBuilder.Sql(
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid " +
                "WHERE c.relname = 'ix_payment_transactions_created_at_transaction_id' AND NOT i.indisvalid) THEN " +
                "ALTER INDEX ix_payment_transactions_created_at_transaction_id RENAME TO ix_payment_transactions_created_at_transaction_id_invalid; END IF; END $$;");
            migrationBuilder.Sql(
                "DROP INDEX CONCURRENTLY IF EXISTS ix_payment_transactions_created_at_transaction_id_invalid;", suppressTransaction: true);
            migrationBuilder.Sql(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_payment_transactions_created_at_transaction_id ON payment_transactions (created_at, transaction_id);",
                suppressTransaction: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_payment_transactions_created_at_transaction_id",
                table: "payment_transactions");
        }
    }
}
