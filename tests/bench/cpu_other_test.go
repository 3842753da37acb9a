//go:build !unix

package bench

import "time"

// cpuTime is not measured on this platform: cpu-ns/op is not reported.
func cpuTime() time.Duration { return 0 }
