package db

import (
	"database/sql/driver"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PGConnector returns the PostgreSQL connector Open uses, on cfg (a test
// can set cfg.DialFunc to watch the connection).
func PGConnector(cfg *pgx.ConnConfig) driver.Connector {
	return pgConnector{base: stdlib.GetConnector(*cfg)}
}
