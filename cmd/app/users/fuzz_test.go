package users_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/repo"
	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
)

// fuzzBodyLimit is the body limit of the fuzzed engine: small, so that
// fuzzed bodies reach the 413 path.
const fuzzBodyLimit = 4 << 10

// fuzzLog keeps what the middleware logs during one request, to show with
// a failure.
type fuzzLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *fuzzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// fuzzApp is the users routes on an in-process gin engine, assembled as the
// framework's HTTP, scope and metrics modules do (fxmodules/http.go,
// scope.go) but without Fx, over a migrated SQLite file.
type fuzzApp struct {
	e   *gin.Engine
	x   *sqlx.DB
	log *fuzzLog
}

func newFuzzApp(f *testing.F) *fuzzApp {
	f.Helper()
	gin.SetMode(gin.TestMode)
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite:" + filepath.Join(f.TempDir(), "users.db")
	cfg.BodyLimit = fuzzBodyLimit
	x, d, err := db.Open(cfg.DatabaseURL, db.Pool{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { x.Close() })
	m, err := db.NewMigrator(x, d, migrations.FS, nil)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		f.Fatal(err)
	}
	table, err := repo.NewTable[users.User](d)
	if err != nil {
		f.Fatal(err)
	}
	cols, err := users.NewColumns(table)
	if err != nil {
		f.Fatal(err)
	}
	reg := scope.NewRegistry()
	for _, p := range api.TxProviders(db.PrimaryOnly(x, d), nil, nil) {
		if err := reg.Add(p); err != nil {
			f.Fatal(err)
		}
	}
	p, err := scope.NewProvider(scope.Scoped, users.NewRepository)
	if err != nil {
		f.Fatal(err)
	}
	if err := reg.Add(p); err != nil {
		f.Fatal(err)
	}
	// The zero Welcomer: POST /users enqueues no job.
	w, err := scope.NewProvider(scope.Scoped, func() *users.Welcomer { return &users.Welcomer{} })
	if err != nil {
		f.Fatal(err)
	}
	if err := reg.Add(w); err != nil {
		f.Fatal(err)
	}
	if err := reg.Compile(map[reflect.Type]any{
		reflect.TypeFor[*repo.Table[users.User]](): table,
		reflect.TypeFor[*users.Columns]():          cols,
	}); err != nil {
		f.Fatal(err)
	}
	metrics, err := api.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	a := &fuzzApp{x: x, log: &fuzzLog{}}
	log := slog.New(slog.NewTextHandler(a.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mw := api.NewMiddleware(reg, api.MiddlewareConfig{
		HoldLimit:     int(cfg.HoldLimit),
		RetryAttempts: cfg.RetryAttempts,
		ReplayLimit:   cfg.RetryReplayLimit,
		TxTimeout:     cfg.RequestTimeout,
		Logger:        log,
		AccessLog:     log.With("component", "http"),
		Observer:      metrics,
	})
	a.e = gin.New()
	a.e.HandleMethodNotAllowed = true
	a.e.NoRoute(api.NotFound)
	a.e.NoMethod(api.MethodNotAllowed)
	a.e.Use(api.BodyLimit(cfg.BodyLimit), mw.HandlerFunc())
	users.Routes(a.e)
	if err := api.CheckRoutes(a.e, reg); err != nil {
		f.Fatal(err)
	}
	return a
}

// insert adds a user straight on the pool.
func (a *fuzzApp) insert(f *testing.F, name, email string, active bool) {
	f.Helper()
	if _, err := a.x.Exec("INSERT INTO users (name, email, is_active) VALUES (?, ?, ?)", name, email, active); err != nil {
		f.Fatal(err)
	}
}

// serve answers req and checks what every answer must be: no 5xx, a
// problem+json 4xx, every connection back in the pool.
func (a *fuzzApp) serve(t *testing.T, req *http.Request, what string) *httptest.ResponseRecorder {
	t.Helper()
	a.log.take()
	w := httptest.NewRecorder()
	a.e.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("%s: answered %d %s\nlog:\n%s", what, w.Code, w.Body, a.log.take())
	}
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); ct != api.ProblemContentType {
			t.Fatalf("%s: answered %d with Content-Type %q: %s", what, w.Code, ct, w.Body)
		}
		var p api.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Title == "" {
			t.Fatalf("%s: answered %d with problem %s (%v)", what, w.Code, w.Body, err)
		}
		if bytes.Contains(w.Body.Bytes(), []byte("repo:")) {
			t.Fatalf("%s: answered %d with a Go error's text: %s", what, w.Code, w.Body)
		}
	}
	for i := 0; a.x.Stats().InUse != 0; i++ {
		if i == 100 {
			t.Fatalf("%s: %d connections still in use after the answer %d", what, a.x.Stats().InUse, w.Code)
		}
		time.Sleep(time.Millisecond)
	}
	return w
}

// fuzzContentTypes are the content types FuzzCreateUserBody picks from.
var fuzzContentTypes = []string{
	"application/json",
	"application/json; charset=utf-8",
	"Application/JSON",
	"application/problem+json",
	"application/vnd.api+json; charset=utf-8",
	"text/plain",
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=x",
	"", // none
	"application/json; charset=",
	"json",
}

// FuzzCreateUserBody posts any body, with a content type of
// fuzzContentTypes, to POST /users: never a 5xx; a 201 only for a JSON
// object whose name is 1-100 characters and whose email is set, and then
// the row holds that name and the email normalised; every 4xx is
// problem+json without a Go error's text; no connection stays in use.
func FuzzCreateUserBody(f *testing.F) {
	a := newFuzzApp(f)
	a.insert(f, "Taken", "taken@example.com", true)
	for _, s := range []struct {
		body string
		ct   uint8
	}{
		{`{"name":"Ann","email":"ann@example.com"}`, 0},
		{`{"name":"Ann","email":"ann@example.com","is_active":false}`, 1},
		{`{"name":"Dup","email":"taken@example.com"}`, 0},                             // 409
		{`{"name":"","email":"e@example.com"}`, 0},                                    // 422
		{`{"name":"N","email":"not-an-email"}`, 0},                                    // 422
		{`{"name":"N\u0000","email":"n@example.com"}`, 0},                             // NUL: 422
		{"{\"name\":\"N\xff\",\"email\":\"n@example.com\"}", 0},                       // bad UTF-8: 400
		{`{"name":"N","email":"n@example.com","extra":1}`, 0},                         // 400
		{`{"name":"N","email":"n@example.com"} trailing`, 0},                          // 400
		{`[{"name":"N","email":"n@example.com"}]`, 0},                                 // 400
		{`{"name":1,"email":"n@example.com"}`, 0},                                     // 422
		{`{"name":"N","email":"n@example.com"}`, 5},                                   // 415
		{`{"name":"N","email":"n@example.com"}`, 8},                                   // no content type: 415
		{`{"name":"` + strings.Repeat("é", 100) + `","email":"long@example.com"}`, 2}, // 100 characters, 200 bytes
		{`{"name":"` + strings.Repeat("x", 101) + `","email":"x@example.com"}`, 3},    // 422
		{`null`, 0},
		{``, 0},
		{`{"name":"` + strings.Repeat("x", fuzzBodyLimit) + `"}`, 0}, // 413
	} {
		f.Add([]byte(s.body), s.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		contentType := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]
		req := httptest.NewRequest(http.MethodPost, "/users", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		what := fmt.Sprintf("POST /users (%s) %q", contentType, body)
		w := a.serve(t, req, what)
		switch {
		case w.Code == http.StatusCreated:
		case w.Code >= 400 && w.Code < 500:
			return
		default:
			t.Fatalf("%s: answered %d: %s", what, w.Code, w.Body)
		}

		var in struct {
			Name     *string `json:"name"`
			Email    *string `json:"email"`
			IsActive *bool   `json:"is_active"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Name == nil || in.Email == nil {
			t.Fatalf("%s: 201 for a body that is not an object with a name and an email (%v)", what, err)
		}
		email := users.NormalizeEmail(*in.Email)
		if n := utf8.RuneCountInString(*in.Name); n < 1 || n > 100 || email == "" || utf8.RuneCountInString(email) > 100 {
			t.Fatalf("%s: 201 for name %q (%d characters), email %q", what, *in.Name, n, *in.Email)
		}
		var got users.User
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: 201 with body %s: %v", what, w.Body, err)
		}
		if loc := w.Header().Get("Location"); loc != fmt.Sprintf("/users/%d", got.ID) {
			t.Fatalf("%s: 201 for id %d with Location %q", what, got.ID, loc)
		}
		var row users.User
		if err := a.x.Get(&row, "SELECT * FROM users WHERE id = ?", got.ID); err != nil {
			t.Fatalf("%s: 201 for id %d, but the row: %v", what, got.ID, err)
		}
		active := in.IsActive == nil || *in.IsActive
		if row.Name != *in.Name || row.Email != email || row.IsActive != active ||
			got.Name != row.Name || got.Email != row.Email || got.IsActive != row.IsActive {
			t.Fatalf("%s: answered %+v, stored %+v", what, got, row)
		}
		// Remove it, so that the same email can be created again.
		if _, err := a.x.Exec("DELETE FROM users WHERE id = ?", got.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzListQuery sends GET /users?<any query>: never a 5xx; every 4xx is
// problem+json without a Go error's text; a 200 is the cursor page when the
// query has a cursor, the offset page otherwise, each decoded strictly, and
// a limit of more than MaxLimit answers MaxLimit; no connection stays in
// use.
func FuzzListQuery(f *testing.F) {
	a := newFuzzApp(f)
	for i := range 30 {
		a.insert(f, fmt.Sprintf("User %02d_%%!", i), fmt.Sprintf("u%02d@example.com", i), i%3 != 0)
	}
	a.insert(f, "Zoë Émile", "zoe@example.com", true)
	for _, q := range []string{
		"",
		"limit=5&offset=10",
		"limit=0",
		"limit=101",
		"limit=1000",
		"limit=99999999999999999999",
		"limit=-1",
		"limit=%2B5",
		"offset=2147483647",
		"offset=2147483648",
		"sort=name,-created_at",
		"sort=-id,id",
		"sort=nope",
		"sort=,",
		"q=user&active=true&sort=-email",
		"q=%25&active=false",
		"q=%00",
		"q=%FF%FE",
		"active=maybe",
		"cursor=",
		"cursor=ZnQxOjM&limit=2", // ft1:3
		"cursor=ZnQxOjM&q=x",
		"cursor=!!",
		"limit=5;offset=3",
		"q=a&q=b&limit=1&limit=x",
		"ids=1,2,3&email_domain=example.com",
		"ids=1,,x",
		"ids=9223372036854775807,9223372036854775808",
		"created_after=2024-01-01T00:00:00Z&created_before=2030-01-01T00:00:00.5%2B02:00",
		"created_after=0001-01-01T00:00:00.000001Z&created_before=9999-12-31T23:59:59.999999999Z",
		"created_before=9999-12-31T23:00:00-02:00",
		"email_domain=%25&sort=-created_at&limit=3&offset=1",
		"email_domain=%FF",
		"cursor=&email_domain=example.com",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if strings.ContainsFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
			return // not in a request line; percent-encoded, these bytes are fuzzed all the same
		}
		req := httptest.NewRequest(http.MethodGet, "/users", nil)
		req.URL.RawQuery = rawQuery
		what := fmt.Sprintf("GET /users?%s", rawQuery)
		w := a.serve(t, req, what)
		switch {
		case w.Code == http.StatusOK:
		case w.Code >= 400 && w.Code < 500:
			return
		default:
			t.Fatalf("%s: answered %d: %s", what, w.Code, w.Body)
		}

		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.DisallowUnknownFields()
		if _, cursor := req.URL.Query()["cursor"]; cursor {
			var page struct {
				Users      *[]users.User `json:"users"`
				NextCursor *string       `json:"next_cursor"`
			}
			if err := dec.Decode(&page); err != nil || page.Users == nil {
				t.Fatalf("%s: 200 with %s, not a cursor page (%v)", what, w.Body, err)
			}
			if page.NextCursor != nil && *page.NextCursor == "" {
				t.Fatalf("%s: empty next_cursor: %s", what, w.Body)
			}
			if len(*page.Users) > users.MaxLimit {
				t.Fatalf("%s: %d users on a page", what, len(*page.Users))
			}
			return
		}
		var page struct {
			Users  *[]users.User `json:"users"`
			Total  *int64        `json:"total"`
			Limit  *int          `json:"limit"`
			Offset *int          `json:"offset"`
		}
		if err := dec.Decode(&page); err != nil || page.Users == nil || page.Total == nil || page.Limit == nil || page.Offset == nil {
			t.Fatalf("%s: 200 with %s, not a list page (%v)", what, w.Body, err)
		}
		if *page.Limit < 1 || *page.Limit > users.MaxLimit || *page.Offset < 0 ||
			len(*page.Users) > *page.Limit || int64(len(*page.Users)) > *page.Total {
			t.Fatalf("%s: inconsistent page: %s", what, w.Body)
		}
		// A limit of more than MaxLimit is lowered to it, however long.
		if v := req.URL.Query()["limit"]; len(v) > 0 && len(strings.TrimLeft(strings.TrimPrefix(v[0], "+"), "0")) > 3 && *page.Limit != users.MaxLimit {
			t.Fatalf("%s: limit %q answered limit %d, want %d", what, v[0], *page.Limit, users.MaxLimit)
		}
	})
}
