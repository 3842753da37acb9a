// Package db opens FastTrack's connection pool for SQLite, PostgreSQL and
// MySQL, knows each dialect's facts (bind style, quoting, error classes),
// runs migrations over goose, and holds the request's lazy transaction.
//
// [Open] takes a database URL, parsed by package dburl (the grammar
// DATABASE_URL follows), and a [Pool] of connection limits. On PostgreSQL
// the pool's connections send a transaction's BEGIN with its first
// statement, one round trip instead of two.
package db
