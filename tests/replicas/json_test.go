package replicas_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// decode reads resp's JSON body into v, and fails unless it is a 200.
func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body)
	}
	if err := jsonUnmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

// jsonUnmarshal is json.Unmarshal.
func jsonUnmarshal(body []byte, v any) error { return json.Unmarshal(body, v) }
