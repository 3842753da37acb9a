package config_test

import (
	"errors"
	"testing"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/dburl"
	"github.com/fasttrack-go/fasttrack/internal/secreturl"
)

func loadDatabaseURL(u string) (config.Config, error) {
	return config.LoadFrom(func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return u, true
		}
		return "", false
	})
}

// checkLoad checks LoadFrom with DATABASE_URL=u against Validate, and the
// shape of its error.
func checkLoad(t *testing.T, u string) error {
	t.Helper()
	c, err := loadDatabaseURL(u)
	v := config.Default()
	v.DatabaseURL = u
	verr := v.Validate()
	if u == "" {
		// Empty is unset: the default, which Validate rejects as empty.
		if err != nil || c.DatabaseURL != config.Default().DatabaseURL {
			t.Fatalf("LoadFrom(DATABASE_URL=\"\") = %+v, %v; want the default", c, err)
		}
		return nil
	}
	if (err == nil) != (verr == nil) {
		t.Fatalf("DATABASE_URL=%q: LoadFrom error %v, but Validate error %v", u, err, verr)
	}
	if err == nil {
		if c.DatabaseURL != u {
			t.Fatalf("LoadFrom(DATABASE_URL=%q) stored %q", u, c.DatabaseURL)
		}
		return nil
	}
	if c != (config.Config{}) {
		t.Fatalf("LoadFrom(DATABASE_URL=%q) returned %+v with its error", u, c)
	}
	e, ok := errors.AsType[*config.Error](err)
	if !ok || e.Var != "DATABASE_URL" {
		t.Fatalf("LoadFrom(DATABASE_URL=%q): error %v (%T), want a *config.Error for DATABASE_URL", u, err, err)
	}
	if !errors.Is(err, dburl.ErrMalformed) && !errors.Is(err, dburl.ErrUnknownScheme) {
		t.Fatalf("LoadFrom(DATABASE_URL=%q): error %v is neither dburl.ErrMalformed nor dburl.ErrUnknownScheme", u, err)
	}
	if e.Value != dburl.Redact(u) {
		t.Fatalf("LoadFrom(DATABASE_URL=%q): Error.Value %q, want Redact's %q", u, e.Value, dburl.Redact(u))
	}
	return err
}

// FuzzLoadDatabaseURL loads DATABASE_URL=scheme://user:PASSWORD@rest, where
// the password holds a marker: neither LoadFrom's error nor Redact may show
// it. rest alone is loaded too, for panics.
func FuzzLoadDatabaseURL(f *testing.F) {
	for _, s := range []struct {
		scheme, user, pre, suf, rest string
		encoded                      bool
	}{
		{"postgres", "app", "", "", "db:5432/app?sslmode=disable", false},
		{"postgresql", "", "", "", "db/app", false},
		{"mysql", "root", "", "", "localhost:3306/app", false},
		{"redis", "u", "", "", "h:6379", false},
		{"postgres", "app", "s3@", "", "db/app", false},     // '@' in the password
		{"postgres", "app", "", "/x", "db/app", false},      // '/' in the password
		{"postgres", "app", "", "%zz", "db/app", false},     // bad escape
		{"postgres", "app", "99999#", "", "db/app", false},  // parses as a port
		{"postgres", "app", "", "", "db:99999/app", false},  // bad port
		{"postgres", "app", "1:", "", "db:port/app", false}, // ':' in the password
		{"mysql", "app", "", "", "tcp(localhost:3306)/a", false},
		{"postgres", "app", "", "", "db/app?password=x", true},
		{"Postgres", "a", "", " x", "h/db", false},
		{"sqlite", "u", "", "", "h/x.db", false}, // skipped: a path
		{"p", "", "", "", "", false},
	} {
		f.Add(s.scheme, s.user, s.pre, s.suf, s.rest, s.encoded)
	}
	f.Fuzz(func(t *testing.T, scheme, user, pre, suf, rest string, encoded bool) {
		// rest alone: any string, for panics and the error's shape.
		checkLoad(t, rest)
		_ = dburl.Redact(rest)

		u, ok := secreturl.Build(scheme, user, pre, suf, rest, encoded)
		if !ok {
			return
		}
		if r := dburl.Redact(u); secreturl.Leak(r) != "" {
			t.Fatalf("Redact(%q) = %q shows %q", u, r, secreturl.Leak(r))
		}
		if err := checkLoad(t, u); err != nil {
			if l := secreturl.Leak(err.Error()); l != "" {
				t.Fatalf("LoadFrom(DATABASE_URL=%q): error shows %q: %v", u, l, err)
			}
		}
	})
}
