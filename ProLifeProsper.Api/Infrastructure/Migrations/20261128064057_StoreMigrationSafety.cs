using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class StoreMigrationSafety : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "high_water_created_at",
                table: "backfill_progress",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "high_water_record_created_at",
                table: "backfill_progress",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "high_water_transaction_id",
                table: "backfill_progress",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "reverse_copy_progress",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    records_scan_key = table.Column<string>(type: "text", nullable: true),
                    records_done = table.Column<bool>(type: "boolean", nullable: false),
                    payments_scan_key = table.Column<string>(type: "text", nullable: true),
                    copied = table.Column<long>(type: "bigint", nullable: false),
                    records_copied = table.Column<long>(type: "bigint", nullable: false),
                    fence_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_reverse_copy_progress", x => x.id);
                    table.CheckConstraint("ck_reverse_copy_progress_single_row", "id = 1");
                });

            migrationBuilder.CreateTable(
                name: "worker_leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_worker_leases", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ux_payment_transactions_organization_key",
                table: "payment_transactions",
                columns: new[] { "organization_id", "idempotency_key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_payment_outbox_postgresql_key",
                table: "payment_outbox",
                columns: new[] { "organization_id", "idempotency_key" },
                filter: "target = 'postgresql'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "reverse_copy_progress");

            migrationBuilder.DropTable(
                name: "worker_leases");

            migrationBuilder.DropIndex(
                name: "ux_payment_transactions_organization_key",
                table: "payment_transactions");

            migrationBuilder.DropIndex(
                name: "ix_payment_outbox_postgresql_key",
                table: "payment_outbox");

            migrationBuilder.DropColumn(
                name: "high_water_created_at",
                table: "backfill_progress");

            migrationBuilder.DropColumn(
                name: "high_water_record_created_at",
                table: "backfill_progress");

            migrationBuilder.DropColumn(
                name: "high_water_transaction_id",
                table: "backfill_progress");
        }
    }
}
