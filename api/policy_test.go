package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/gin-gonic/gin"
)

func TestHandleOptions(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite::memory:"
	x, d, err := db.Open(cfg.DatabaseURL, db.Pool{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	reg := compiledRegistry(t, api.TxProviders(db.PrimaryOnly(x, d), nil, nil)...)
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(api.NewMiddleware(reg, api.MiddlewareConfig{TxTimeout: time.Minute}).HandlerFunc())
	var calls int
	e.GET("/ro", api.Handle(func(c *gin.Context, tx *db.Tx) (db.TxOptions, error) {
		return tx.Options(), nil
	}, api.WithReadOnly()))
	e.POST("/flaky", api.Handle(func(c *gin.Context, tx *db.Tx) (db.TxOptions, error) {
		calls++
		if calls < 3 {
			return db.TxOptions{}, fmt.Errorf("attempt %d: %w", calls, db.ErrRetryable)
		}
		return tx.Options(), nil
	}, api.WithSerializable(), api.WithRetry(3)))
	e.GET("/plain", api.Handle(func(c *gin.Context) error { return nil }))
	e.GET("/gin", func(c *gin.Context) {})
	if err := api.CheckRoutes(e, reg); err != nil {
		t.Fatal(err)
	}

	w := serve(e, http.MethodGet, "/ro")
	if w.Code != http.StatusOK || w.Body.String() != `{"ReadOnly":true,"Isolation":0,"Timeout":60000000000,"NPlusOne":{"Mode":0,"Threshold":0}}` {
		t.Fatalf("/ro: %d %s", w.Code, w.Body)
	}
	w = serve(e, http.MethodPost, "/flaky")
	if w.Code != http.StatusOK || calls != 3 {
		t.Fatalf("/flaky: %d after %d calls: %s", w.Code, calls, w.Body)
	}
	want := map[string]string{
		"GET /ro":     "read-only",
		"POST /flaky": "serializable, retry 3",
		"GET /plain":  "default",
	}
	routes := api.DescribeRoutes(e)
	got := map[string]string{}
	for k, ri := range routes {
		got[k] = ri.Policy
		if !strings.HasPrefix(ri.Handler, "github.com/fasttrack-go/fasttrack/api_test.TestHandleOptions.func") {
			t.Errorf("%s: handler %q", k, ri.Handler)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("policies = %v, want %v", got, want)
	}
}
