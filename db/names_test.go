package db

import "testing"

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"ID": "id", "Name": "name", "CreatedAt": "created_at", "UserID": "user_id",
		"HTTPCode": "http_code", "IsActive": "is_active", "Address2": "address2", "already_snake": "already_snake",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
