package db

// PoolLimits returns the limits Open sets for p: its zero fields set to
// their defaults.
func PoolLimits(p Pool) Pool { return p.limits() }

// RidesCommit reports whether c's writes get their position from their
// COMMIT's round trip.
func RidesCommit(c *Cluster) bool { return c.ridesCommit() }
