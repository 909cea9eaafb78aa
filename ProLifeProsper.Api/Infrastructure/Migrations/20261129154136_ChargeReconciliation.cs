using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ChargeReconciliation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // One row: up to when the processor's charges were compared with the stored payments (ChargeReconciler).
            migrationBuilder.Sql("CREATE TABLE IF NOT EXISTS charge_reconciliation (id integer PRIMARY KEY, reconciled_until timestamp with time zone NOT NULL);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE IF EXISTS charge_reconciliation;");
        }
    }
}
