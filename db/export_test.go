package db

// PoolLimits returns the limits Open sets for p: its zero fields set to
// their defaults.
func PoolLimits(p Pool) Pool { return p.limits() }
