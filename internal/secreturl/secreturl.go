// Package secreturl builds database URLs with a known password for fuzz
// tests that check no error or log ever shows it.
package secreturl

import "strings"

// Marker is planted in the password of every built URL. It is distinctive
// enough that the rest of a fuzzed URL holds it only on purpose (such
// inputs are refused by Build).
const Marker = "Zq9SeCrEt"

// MarkerEncoded is Marker percent-encoded in part: a URL parser decodes it
// back into Marker.
const MarkerEncoded = "Zq9%53eCrEt"

// Build returns scheme://user:PASSWORD@rest, where PASSWORD is pre, the
// marker (percent-encoded in part if encoded) and suf. ok is false when the
// marker, in either form and any case, is not exactly once in the URL, or
// for an sqlite: URL, which is a path where ':' and '@' are not userinfo.
func Build(scheme, user, pre, suf, rest string, encoded bool) (raw string, ok bool) {
	marker := Marker
	if encoded {
		marker = MarkerEncoded
	}
	raw = scheme + "://" + user + ":" + pre + marker + suf + "@" + rest
	low := strings.ToLower(raw)
	if strings.Count(low, strings.ToLower(Marker))+strings.Count(low, strings.ToLower(MarkerEncoded)) != 1 {
		return "", false
	}
	if s, _, _ := strings.Cut(low, ":"); s == "sqlite" || s == "sqlite3" {
		return "", false
	}
	return raw, true
}

// Leak returns what of the password msg shows, if anything: the marker in
// any case, encoded or not.
func Leak(msg string) string {
	low := strings.ToLower(msg)
	for _, s := range []string{Marker, MarkerEncoded} {
		if i := strings.Index(low, strings.ToLower(s)); i >= 0 {
			return low[i : i+len(s)]
		}
	}
	return ""
}
