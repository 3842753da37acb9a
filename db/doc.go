// Package db opens FastTrack's connection pool for SQLite, PostgreSQL and
// MySQL, knows each dialect's facts (bind style, quoting, error classes),
// runs migrations over goose, and holds the request's lazy transaction.
package db
