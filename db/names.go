package db

import (
	"strings"
	"unicode"
)

// SnakeCase maps a Go field name to its column name: "CreatedAt" →
// "created_at", "UserID" → "user_id", "HTTPCode" → "http_code". The pool's
// mapper uses it for fields without a db tag.
func SnakeCase(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1]) ||
				(i+1 < len(runes) && unicode.IsLower(runes[i+1]) && unicode.IsUpper(runes[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
