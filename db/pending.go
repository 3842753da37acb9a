package db

// Pending reports whether the transaction holds work that Finish would
// commit or roll back: it has begun and not finished. It implements
// scope.Pender, so that a request scope knows a rollback of a transaction
// that never began discarded nothing.
func (t *Tx) Pending() bool { return t.Begun() }
