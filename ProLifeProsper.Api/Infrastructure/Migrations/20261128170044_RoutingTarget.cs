using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class RoutingTarget : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "desired_at",
                table: "routing_state",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "desired_configuration",
                table: "routing_state",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "started_configuration",
                table: "routing_state",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "desired_at",
                table: "routing_state");

            migrationBuilder.DropColumn(
                name: "desired_configuration",
                table: "routing_state");

            migrationBuilder.DropColumn(
                name: "started_configuration",
                table: "routing_state");
        }
    }
}
