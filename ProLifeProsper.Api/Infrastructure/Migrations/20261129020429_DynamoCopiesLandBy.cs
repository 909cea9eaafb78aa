using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProLifeProsper.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class DynamoCopiesLandBy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "dynamo_copies_land_by",
                table: "routing_state",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "dynamo_copies_land_by",
                table: "routing_state");
        }
    }
}
