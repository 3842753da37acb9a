package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/dburl"
)

func TestReplicaURLs(t *testing.T) {
	c, err := config.LoadFrom(env(map[string]string{
		"DATABASE_URL":          "postgres://app:pw@primary/app",
		"DATABASE_REPLICA_URLS": " postgres://app:pw@r1/app , ,postgresql://app:pw@r2:5433/app",
		"REPLICA_POSITION_KEY":  "do-not-log-this-key",
	}))
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	want := []string{"postgres://app:pw@r1/app", "postgresql://app:pw@r2:5433/app"}
	if got := c.ReplicaURLs(); !reflect.DeepEqual(got, want) {
		t.Errorf("ReplicaURLs() = %q, want %q", got, want)
	}
	if got := config.Default().ReplicaURLs(); got != nil {
		t.Errorf("default ReplicaURLs() = %q, want none", got)
	}
	if s := c.LogValue().String(); strings.Contains(s, "pw") || strings.Contains(s, "do-not-log") {
		t.Errorf("LogValue shows a replica's password or the position key: %s", s)
	}
}

func TestReplicaURLsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, primary, replicas, value string
		want                           error
	}{
		{"mysql replica", "postgres://p/app", "mysql://u:pw@r/app", "mysql://u:xxxxx@r/app", config.ErrReplicaNotPostgres},
		{"mysql primary", "mysql://p/app", "postgres://r/app", "postgres://r/app", config.ErrReplicaNotPostgres},
		{"sqlite primary", "sqlite:app.db", "postgres://r/app", "postgres://r/app", config.ErrReplicaNotPostgres},
		{"unknown scheme", "postgres://p/app", "postgres://r/app,redis://r", "postgres://r/app,redis://r", dburl.ErrUnknownScheme},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.LoadFrom(env(map[string]string{"DATABASE_URL": tc.primary, "DATABASE_REPLICA_URLS": tc.replicas}))
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadFrom = %v, want errors.Is %v", err, tc.want)
			}
			errs := configErrors(t, err)
			if len(errs) != 1 || errs[0].Var != "DATABASE_REPLICA_URLS" || errs[0].Value != tc.value {
				t.Errorf("errors = %v, want one of DATABASE_REPLICA_URLS with value %q", err, tc.value)
			}
		})
	}
}
