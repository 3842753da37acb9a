package db

import (
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
)

// Dialect names one of the supported databases and knows its SQL facts.
type Dialect string

// The supported dialects.
const (
	// SQLite is the embedded default, through modernc.org/sqlite.
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL, through github.com/jackc/pgx/v5/stdlib.
	Postgres Dialect = "postgres"
	// MySQL is MySQL or MariaDB, through github.com/go-sql-driver/mysql.
	MySQL Dialect = "mysql"
)

// Name returns "sqlite", "postgres" or "mysql".
func (d Dialect) Name() string { return string(d) }

// BindType returns the sqlx bind style: sqlx.DOLLAR for PostgreSQL,
// sqlx.QUESTION otherwise.
func (d Dialect) BindType() int {
	if d == Postgres {
		return sqlx.DOLLAR
	}
	return sqlx.QUESTION
}

// Rebind rewrites a query written with ? placeholders into the dialect's
// bind style.
func (d Dialect) Rebind(query string) string { return sqlx.Rebind(d.BindType(), query) }

// Quote quotes an identifier: backticks for MySQL, double quotes otherwise.
// Quote characters inside the name are doubled.
func (d Dialect) Quote(ident string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// SupportsReturning reports whether INSERT … RETURNING gives the new id
// (PostgreSQL and SQLite); MySQL uses LastInsertId instead.
func (d Dialect) SupportsReturning() bool { return d == Postgres || d == SQLite }

// gooseDialect maps d to goose's dialect name.
func (d Dialect) gooseDialect() goose.Dialect {
	switch d {
	case Postgres:
		return goose.DialectPostgres
	case MySQL:
		return goose.DialectMySQL
	default:
		return goose.DialectSQLite3
	}
}
