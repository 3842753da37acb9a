package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
)

func TestParseQueues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []config.Queue
	}{
		{"default:10", []config.Queue{{"default", 10}}},
		{"default:10,mail:2", []config.Queue{{"default", 10}, {"mail", 2}}},
		{" default : 1 , mail-out_2:10000 ", []config.Queue{{"default", 1}, {"mail-out_2", 10000}}},
		{"", nil},
	} {
		got, err := config.ParseQueues(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseQueues(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestJobsQueuesInvalid(t *testing.T) {
	for _, tc := range []struct {
		in, says string
		is       error
	}{
		{"default", "want NAME:WORKERS", nil},
		{"default:0", "workers 0", config.ErrOutOfRange},
		{"default:10001", "workers 10001", config.ErrOutOfRange},
		{"default:x", `workers "x"`, nil},
		{"Mail:2", `queue name "Mail"`, config.ErrUnknownValue},
		{"a__b:2", `queue name "a__b"`, config.ErrUnknownValue},
		{":2", `queue name ""`, config.ErrUnknownValue},
		{strings.Repeat("q", 65) + ":1", "queue name", config.ErrUnknownValue},
		{"mail:1,mail:2", `queue "mail" given twice`, nil},
		{"default:1,", "want NAME:WORKERS", nil},
	} {
		_, err := config.LoadFrom(func(k string) (string, bool) {
			if k == "JOBS_QUEUES" {
				return tc.in, true
			}
			return "", false
		})
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "JOBS_QUEUES" || !strings.Contains(err.Error(), tc.says) ||
			!strings.Contains(err.Error(), "JOBS_QUEUES=") {
			t.Errorf("JOBS_QUEUES=%q: err = %v; want a *config.Error on JOBS_QUEUES saying %q", tc.in, err, tc.says)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("JOBS_QUEUES=%q: err = %v; want it to wrap %v", tc.in, err, tc.is)
		}
	}
	c, err := config.LoadFrom(func(k string) (string, bool) {
		if k == "JOBS_QUEUES" {
			return "default:3,mail:2", true
		}
		return "", false
	})
	if err != nil || c.JobsQueues != "default:3,mail:2" {
		t.Fatalf("LoadFrom(JOBS_QUEUES=default:3,mail:2) = %q, %v", c.JobsQueues, err)
	}
	if config.Default().JobsQueues != "default:10" {
		t.Errorf("default JOBS_QUEUES = %q; want default:10", config.Default().JobsQueues)
	}
	bad := config.Default()
	bad.JobsQueues = "mail:0"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "JOBS_QUEUES") {
		t.Errorf("Validate(JobsQueues=mail:0) = %v; want an error naming JOBS_QUEUES", err)
	}
}
