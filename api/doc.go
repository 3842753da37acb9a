// Package api is FastTrack's Gin glue: the request-scope and transaction
// middleware, handler adapters, the mapping of errors to RFC 9457
// problem+json responses, and the health endpoints.
package api
