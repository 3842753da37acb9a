package fasttest_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/fasttrack-go/fasttrack/fasttest"
)

func TestNewRequest(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     any
		want     string
		wantType string
	}{
		{"none", nil, "", ""},
		{"string", `{"a":1}`, `{"a":1}`, "application/json"},
		{"bytes", []byte("raw"), "raw", "application/json"},
		{"value", map[string]int{"a": 1}, `{"a":1}`, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := fasttest.NewRequest(context.Background(), http.MethodPost, "http://example.test/x", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if req.Body != nil {
				b, _ := io.ReadAll(req.Body)
				got = string(b)
			}
			if got != tc.want || req.Header.Get("Content-Type") != tc.wantType || req.URL.Path != "/x" {
				t.Errorf("body %q, Content-Type %q, path %q", got, req.Header.Get("Content-Type"), req.URL.Path)
			}
		})
	}
	if _, err := fasttest.NewRequest(context.Background(), http.MethodPost, "http://example.test/x", func() {}); err == nil {
		t.Error("a body that cannot be encoded gave no error")
	}
}
