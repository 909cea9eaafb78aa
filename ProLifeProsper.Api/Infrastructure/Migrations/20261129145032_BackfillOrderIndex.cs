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
            // IF NOT EXISTS: on a large table, create it beforehand without blocking writes, and this step does nothing:
            // CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_payment_transactions_created_at_transaction_id ON payment_transactions (created_at, transaction_id);
            migrationBuilder.Sql(
                "CREATE INDEX IF NOT EXISTS ix_payment_transactions_created_at_transaction_id ON payment_transactions (created_at, transaction_id);");
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
