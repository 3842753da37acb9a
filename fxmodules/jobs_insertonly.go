package fxmodules

import "go.uber.org/fx"

// jobsInsertOnly marks an application whose Jobs client works no queue.
type jobsInsertOnly struct{}

// JobsInsertOnly makes the Jobs client insert jobs and work none, whatever
// JOBS_QUEUES and ConfigureJobs say: the app enqueues, and another process
// works the jobs. The cli package gives it to every command but serve.
// Without Jobs, it does nothing.
func JobsInsertOnly() fx.Option { return fx.Supply(&jobsInsertOnly{}) }
