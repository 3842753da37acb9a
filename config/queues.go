package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxQueueWorkers is the most jobs one queue may run at once (River's
// limit).
const MaxQueueWorkers = 10_000

// Queue is one entry of JOBS_QUEUES: a job queue and how many of its jobs
// run at once.
type Queue struct {
	Name       string
	MaxWorkers int
}

const queuesAccepted = `comma-separated NAME:WORKERS pairs, such as "default:10,mail:2"; ` +
	`NAME is lower-case letters and digits separated by single underscores or hyphens, at most 64 bytes; ` +
	`WORKERS is 1-10000; each NAME once`

// queueName is River's rule for a queue name.
var queueName = regexp.MustCompile(`^[a-z0-9]+(?:[_-]?[a-z0-9]+)*$`)

// ParseQueues parses a JOBS_QUEUES value into its queues, in the order
// given. Spaces around names and numbers are ignored. The empty string is
// no queue. The error says which pair is wrong and why.
func ParseQueues(s string) ([]Queue, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var qs []Queue
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(s, ",") {
		name, n, ok := strings.Cut(pair, ":")
		name, n = strings.TrimSpace(name), strings.TrimSpace(n)
		if !ok {
			return nil, fmt.Errorf("%q: want NAME:WORKERS", strings.TrimSpace(pair))
		}
		if len(name) > 64 || !queueName.MatchString(name) {
			return nil, fmt.Errorf("queue name %q: %w", name, ErrUnknownValue)
		}
		if seen[name] {
			return nil, fmt.Errorf("queue %q given twice", name)
		}
		seen[name] = true
		w, err := strconv.Atoi(n)
		if err != nil {
			return nil, fmt.Errorf("queue %q: workers %q: %w", name, n, numError(err))
		}
		if w < 1 || w > MaxQueueWorkers {
			return nil, fmt.Errorf("queue %q: workers %d: %w", name, w, ErrOutOfRange)
		}
		qs = append(qs, Queue{Name: name, MaxWorkers: w})
	}
	if len(qs) == 0 {
		return nil, errors.New("no queue")
	}
	return qs, nil
}
