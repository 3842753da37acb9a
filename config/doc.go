// Package config is FastTrack's typed configuration.
//
// [Load] reads it from environment variables, one per [Config] field; an
// unset or empty variable keeps the field's default (see [Default]), so an
// application runs on a fresh machine with no environment at all. Load
// reports every invalid variable at once, each as an [*Error] naming the
// variable, its value and what it accepts.
//
// Database passwords never reach messages or logs: [Error] values and
// [Config.LogValue] pass the database URL through [Redact].
package config
