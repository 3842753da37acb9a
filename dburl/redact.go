package dburl

import (
	"net/url"
	"strings"
)

// mask replaces passwords.
const mask = "xxxxx"

// Redact returns s with any password replaced by "xxxxx". It knows
// URL userinfo (scheme://user:password@host/db), the MySQL DSN form
// (user:password@tcp(host)/db) and key/value parameters named password,
// pass, pwd, passwd or sslpassword, in any case, both in key/value DSNs
// (host=h password=p, Server=h;Pwd=p) and in URL query strings (?password=p).
// Strings without a password are returned unchanged.
//
// Redact does not parse s, so a malformed string is redacted too. In the
// URL and MySQL forms the password runs to the last '@', so that one
// written unescaped with '@', '/', '?' or '#' is hidden whole. The price:
// an '@' after the host of a URL with a port, as in
// "postgres://db:5432/app?application_name=a@b", hides the text from
// the port to that '@'.
func Redact(s string) string {
	return redactParams(redactUserinfo(s))
}

// redactUserinfo masks the password of the userinfo in the URL and MySQL
// DSN forms.
func redactUserinfo(s string) string {
	if len(s) >= len("sqlite:") && strings.EqualFold(s[:len("sqlite:")], "sqlite:") {
		return s // a path, where '@' and ':' are not userinfo
	}
	if i := strings.Index(s, "://"); i >= 0 {
		// scheme://[user[:password]@]host[/path][?query]
		start := i + len("://")
		at := strings.LastIndexByte(s[start:], '@')
		if at < 0 {
			return s
		}
		return maskPassword(s, start, start+at)
	}
	// [user[:password]@][net[(addr)]]/dbname[?params]. As
	// github.com/go-sql-driver/mysql does, the userinfo ends at the last
	// '@' before the last '/'; failing that (no '/', or a '/' in the
	// password), at the last '@'.
	at := -1
	if slash := strings.LastIndexByte(s, '/'); slash >= 0 {
		at = strings.LastIndexByte(s[:slash], '@')
	}
	if at < 0 {
		at = strings.LastIndexByte(s, '@')
	}
	if at < 0 {
		return s
	}
	if user, _, _ := strings.Cut(s[:at], ":"); strings.ContainsAny(user, "="+spaces) {
		return s // a key/value DSN, left to redactParams
	}
	return maskPassword(s, 0, at)
}

// maskPassword masks the password in the userinfo s[start:end], which has
// the form user[:password].
func maskPassword(s string, start, end int) string {
	c := strings.IndexByte(s[start:end], ':')
	if c < 0 || start+c+1 == end {
		return s // no password, or an empty one
	}
	return s[:start+c+1] + mask + s[end:]
}

const spaces = " \t\n\v\f\r"

// redactParams masks the values of password parameters: key=value pairs
// that start s or follow whitespace, '?', '&' or ';'. Spaces may surround
// '='. A value quoted with ' or " (backslash escapes the quote) ends at the
// closing quote; any other value ends at the separator that precedes its
// key ('&' for '?' and '&', ';' for ';') or else at whitespace.
func redactParams(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); i++ {
		var sep byte // separator before the key; 0 at the start of s
		if i > 0 {
			sep = s[i-1]
			if !isSep(sep) {
				continue
			}
		}
		k := i
		for k < len(s) && s[k] != '=' && !isSep(s[k]) {
			k++
		}
		if !isPasswordKey(s[i:k]) {
			continue
		}
		eq := skipSpaces(s, k)
		if eq == len(s) || s[eq] != '=' {
			continue
		}
		start := skipSpaces(s, eq+1)
		end, next := valueEnd(s, start, sep)
		if start < end && (s[start] == '\'' || s[start] == '"') {
			start++ // keep the quotes
		}
		if start < end {
			b.WriteString(s[done:start])
			b.WriteString(mask)
			done = end
		}
		i = next - 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// valueEnd returns where the value starting at s[start] ends, and where
// scanning resumes. sep is the separator before the value's key.
func valueEnd(s string, start int, sep byte) (end, next int) {
	if start < len(s) && (s[start] == '\'' || s[start] == '"') {
		q := s[start]
		for j := start + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case q:
				return j, j + 1
			}
		}
		return len(s), len(s) // unterminated: hide the rest
	}
	stop := spaces
	switch sep {
	case '?', '&':
		stop = "&"
	case ';':
		stop = ";"
	}
	if j := strings.IndexAny(s[start:], stop); j >= 0 {
		return start + j, start + j
	}
	return len(s), len(s)
}

func isSep(c byte) bool {
	return c == '?' || c == '&' || c == ';' || strings.IndexByte(spaces, c) >= 0
}

func isPasswordKey(k string) bool {
	switch strings.ToLower(k) {
	case "password", "pass", "pwd", "passwd", "sslpassword":
		return true
	}
	return false
}

func skipSpaces(s string, i int) int {
	for i < len(s) && strings.IndexByte(spaces, s[i]) >= 0 {
		i++
	}
	return i
}

// RedactText returns text, such as a driver's error message about the
// database of rawURL, with rawURL's password (as written, and decoded)
// replaced by "xxxxx". It does not parse text otherwise: pass a URL itself
// through Redact.
func RedactText(text, rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		p, _ := u.User.Password()
		text = replaceSecret(text, p)
	}
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		// As written: the authority's userinfo runs to its last '@', as
		// net/url reads it.
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok {
				text = replaceSecret(text, p)
			}
		}
	}
	return text
}

// replaceSecret replaces every occurrence of secret in s.
func replaceSecret(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, mask)
}
