// Package migrations embeds the reference app's SQL migrations, one folder
// per dialect (sqlite, postgres, mysql), as db.NewMigrator expects.
package migrations

import "embed"

// FS holds the migrations.
//
//go:embed sqlite/*.sql postgres/*.sql mysql/*.sql
var FS embed.FS
