package dburl_test

import (
	"fmt"

	"github.com/fasttrack-go/fasttrack/dburl"
)

func ExampleParse() {
	t, err := dburl.Parse("Postgres://app:s3cret@db:5432/app?sslmode=disable")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Dialect, t.Driver)

	_, err = dburl.Parse("sqlite://db/app.db")
	fmt.Println(err)
	// Output:
	// postgres pgx
	// dburl: database URL "sqlite://db/app.db": malformed URL: sqlite URL with a host; write sqlite:PATH for a relative path or sqlite:///abs/path for an absolute one; accepted: sqlite:PATH, sqlite:///ABS/PATH, sqlite::memory:, postgres://…, postgresql://…, mysql://…
}

func ExampleRedact() {
	fmt.Println(dburl.Redact("mysql://root:s3cret@db:3306/app"))
	// Output:
	// mysql://root:xxxxx@db:3306/app
}
