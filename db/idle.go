package db

// Idle reports, once the transaction has finished, that it never began:
// Finish had nothing to commit or roll back. It implements scope.Idler, so
// that a request scope knows that the rollback of a transaction that never
// began discarded nothing.
func (t *Tx) Idle() bool { return t.Outcome() == OutcomeNone }
