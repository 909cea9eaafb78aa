using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class PaymentMigrationState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "backfill_progress",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    checkpoint_created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    checkpoint_transaction_id = table.Column<Guid>(type: "uuid", nullable: true),
                    checkpoint_record_organization_id = table.Column<Guid>(type: "uuid", nullable: true),
                    checkpoint_record_key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    copied = table.Column<long>(type: "bigint", nullable: false),
                    payments_done = table.Column<bool>(type: "boolean", nullable: false),
                    records_copied = table.Column<long>(type: "bigint", nullable: false),
                    total = table.Column<long>(type: "bigint", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_backfill_progress", x => x.id);
                    table.CheckConstraint("ck_backfill_progress_single_row", "id = 1");
                });

            migrationBuilder.CreateTable(
                name: "migration_verifications",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    routing_version = table.Column<long>(type: "bigint", nullable: false),
                    organizations = table.Column<int>(type: "integer", nullable: false),
                    payments = table.Column<long>(type: "bigint", nullable: false),
                    mismatch_count = table.Column<int>(type: "integer", nullable: false),
                    pending_outbox = table.Column<long>(type: "bigint", nullable: false),
                    clean = table.Column<bool>(type: "boolean", nullable: false),
                    mismatches_json = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_migration_verifications", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "payment_outbox",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    target = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    transaction_id = table.Column<Guid>(type: "uuid", nullable: false),
                    idempotency_key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    expected_version = table.Column<int>(type: "integer", nullable: false),
                    enqueued_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_payment_outbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "routing_state",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    phase = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    changed_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    finalized_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_routing_state", x => x.id);
                    table.CheckConstraint("ck_routing_state_single_row", "id = 1");
                });

            migrationBuilder.CreateIndex(
                name: "ix_migration_verifications_completed_at",
                table: "migration_verifications",
                column: "completed_at");

            migrationBuilder.CreateIndex(
                name: "ix_payment_outbox_target_next_attempt_at",
                table: "payment_outbox",
                columns: new[] { "target", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ix_payment_outbox_transaction_id_target",
                table: "payment_outbox",
                columns: new[] { "transaction_id", "target" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "backfill_progress");

            migrationBuilder.DropTable(
                name: "migration_verifications");

            migrationBuilder.DropTable(
                name: "payment_outbox");

            migrationBuilder.DropTable(
                name: "routing_state");
        }
    }
}
