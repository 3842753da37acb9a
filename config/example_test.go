package config_test

import (
	"fmt"

	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/dburl"
)

func ExampleLoadFrom() {
	vars := map[string]string{
		"DATABASE_URL":    "postgres://app:s3cret@db:5432/app",
		"LOG_LEVEL":       "debug",
		"HTTP_BODY_LIMIT": "2MiB",
	}
	cfg, err := config.LoadFrom(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dburl.Redact(cfg.DatabaseURL))
	fmt.Println(cfg.LogLevel, cfg.BodyLimit, cfg.HTTPAddr, cfg.RequestTimeout)

	vars["LOG_LEVEL"] = "loud"
	vars["HTTP_ADDR"] = "8080"
	_, err = config.LoadFrom(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	fmt.Println(err)
	// Output:
	// postgres://app:xxxxx@db:5432/app
	// DEBUG 2097152 :8080 30s
	// config: HTTP_ADDR="8080": missing port in address; accepted: host:port with port 0-65535, such as ":8080" or "127.0.0.1:8080"
	// config: LOG_LEVEL="loud": unknown value; accepted: debug, info, warn, error
}
