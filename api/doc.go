// Package api is FastTrack's Gin glue: the request-scope and transaction
// middleware, handler adapters, the mapping of errors to RFC 9457
// problem+json responses, and the health endpoints.
//
// [Middleware] runs every request in a scope of its own. The scope's
// transaction ([db.Tx]) begins on its first statement; the middleware holds
// the response while the chain runs, settles the scope when the chain has
// returned, and only then sends the response.
//
// # Commit rule
//
// When the whole chain after the middleware has returned — the handler and
// every middleware between the request scope and the handler, including
// their code after c.Next — the request's scope commits if and only if
//
//   - nothing panicked,
//   - c.Errors is empty (an api.Handle handler's returned error is recorded
//     there),
//   - the response status passes [MiddlewareConfig.CommitStatus] (default: below 400),
//
// and otherwise rolls back. Committing means calling Finish(ctx, true) on
// every [scope.Finisher] of the scope, the transaction included; a
// transaction marked with [db.Tx.SetRollbackOnly] rolls back anyway.
//
// What the client receives follows from the outcome, so that a request
// whose work was rolled back never answers success and a committed request
// never answers 5xx:
//
//   - committed: the held response;
//   - the commit failed: a problem instead of the held response — 409 for a
//     unique or foreign-key violation checked at commit, 503 with
//     Retry-After when the failure is retryable or the connection was lost,
//     500 otherwise ([MiddlewareConfig.CommitProblem] maps it to a problem of the
//     application's);
//   - rolled back while the response says success (below 400) and some unit
//     of work held work ([scope.Scope.Discarded]): the problem of the last
//     error in c.Errors, or 500;
//   - a panic: 500.
//
// The response leaves before the chain has returned in exactly three cases,
// and the same rule is applied at that moment, before the first byte is
// sent: the handler's first Flush (streaming), a response body larger than
// [MiddlewareConfig.HoldLimit], and a Hijack. Nothing the chain does afterwards can
// change the outcome; a transaction asked for afterwards is refused.
//
// With retries allowed ([WithRetry], [MiddlewareConfig.RetryAttempts]) on a
// route whose handler comes from [Handle] or [Wrap], a request whose chain
// records a retryable error (the handler's returned error is recorded), or
// whose commit fails with one, runs again — the whole chain after the
// middleware — on a fresh scope, from the request as it reached the
// middleware (body, keys, errors, headers), as long as nothing was sent.
//
// Middlewares installed before the request-scope middleware run after the
// outcome is decided: they cannot veto the commit.
package api
