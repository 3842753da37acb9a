// Package config is FastTrack's typed configuration.
//
// [Load] reads it from environment variables, one per [Config] field; an
// unset or empty variable keeps the field's default (see [Default]), so an
// application runs on a fresh machine with no environment at all. Load
// reports every invalid variable at once, each as an [*Error] naming the
// variable, its value and what it accepts.
//
// DATABASE_URL follows the one grammar of package dburl, the one the db
// package opens the pool with: a URL Load accepts is a URL db.Open opens.
// Database passwords never reach messages or logs: [Error] values and
// [Config.LogValue] pass the database URL through dburl.Redact.
package config
