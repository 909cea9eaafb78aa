using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ApiKeyRotation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "organization_api_keys",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    key_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_organization_api_keys", x => x.id);
                    table.ForeignKey(
                        name: "fk_organization_api_keys_organizations_organization_id",
                        column: x => x.organization_id,
                        principalTable: "organizations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_organization_api_keys_key_hash",
                table: "organization_api_keys",
                column: "key_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_organization_api_keys_organization_id",
                table: "organization_api_keys",
                column: "organization_id");

            // Hand-written: every organization's existing key becomes its first row here, so no client is locked out. The
            // organization's id (a UUIDv7 from the same moment) serves as that key's id: one key per organization so far.
            migrationBuilder.Sql("""
                INSERT INTO organization_api_keys (id, organization_id, key_hash, created_at)
                SELECT id, id, api_key_hash, created_at FROM organizations;
                """);

            migrationBuilder.DropIndex(
                name: "ix_organizations_api_key_hash",
                table: "organizations");

            migrationBuilder.DropColumn(
                name: "api_key_hash",
                table: "organizations");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "api_key_hash",
                table: "organizations",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            // Hand-written: each organization keeps its newest active key; one without any gets an unusable random hash, so
            // going back never brings a revoked or expired key back to life.
            migrationBuilder.Sql("""
                UPDATE organizations o SET api_key_hash = COALESCE(
                    (SELECT k.key_hash FROM organization_api_keys k
                     WHERE k.organization_id = o.id AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
                     ORDER BY k.created_at DESC LIMIT 1),
                    encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'));
                """);

            migrationBuilder.AlterColumn<string>(
                name: "api_key_hash",
                table: "organizations",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64,
                oldNullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_organizations_api_key_hash",
                table: "organizations",
                column: "api_key_hash",
                unique: true);

            migrationBuilder.DropTable(
                name: "organization_api_keys");
        }
    }
}
