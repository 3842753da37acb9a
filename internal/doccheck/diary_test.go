package doccheck

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// diaryPatterns are phrases user documentation must not hold: work
// sessions and the machine's moods. Each names what it catches.
var diaryPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a work session", regexp.MustCompile(`(?i)\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|this|that|next|previous|last|earlier|later|helper|work)\s+session\b|\bsession's\b`)},
	{"the machine's mood", regexp.MustCompile(`(?i)\bthe machine (?:was|is) (?:slow|quiet|busy|faster|slower)`)},
}

// hexWord is a word of 7 to 40 hexadecimal digits, the length of an
// abbreviated or full commit hash.
var hexWord = regexp.MustCompile(`\b[0-9a-f]{7,40}\b`)

// diaryFindings returns, for one line, what it holds that user
// documentation must not. A hexadecimal word counts as a commit hash when
// it has both a digit and a letter, so that numbers and words pass.
func diaryFindings(line string) []string {
	var out []string
	for _, w := range hexWord.FindAllString(line, -1) {
		if strings.ContainsAny(w, "0123456789") && strings.ContainsAny(w, "abcdef") {
			out = append(out, "a commit hash: "+w)
		}
	}
	for _, p := range diaryPatterns {
		for _, m := range p.re.FindAllString(line, -1) {
			out = append(out, p.what+": "+m)
		}
	}
	return out
}

// TestDocsAreNotADiary checks README.md, CONTRIBUTING.md and docs/**/*.md
// for commit hashes, work sessions and remarks on the machine's mood: the
// documentation states what is true now, and history lives in git.
func TestDocsAreNotADiary(t *testing.T) {
	root := moduleRoot(t)
	for _, path := range markdownFiles(t, root) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, f := range diaryFindings(line) {
				t.Errorf("%s:%d: %s", rel(root, path), i+1, f)
			}
		}
	}
}

// TestDiaryFindings pins down what the diary check catches and what it
// lets through.
func TestDiaryFindings(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"run at commit `b449f33`", 1},
		{"PostgreSQL 3 (b60a9f3)", 1},
		{"the 40-hex 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", 1},
		{"Run on 2026-11-25 (fourth session), same command", 1},
		{"a helper session's perf record", 1},
		{"the machine was slow then", 1},
		{"goose advisory session lock", 0},
		{"goose's session locker", 0},
		{"**Measured** 2026-11-26.", 0},
		{"the id 1234567 and the word deadbee", 0}, // digits only; letters only
		{"SQLSTATE 40P01 and 55P03", 0},
		{"https://pkg.go.dev/github.com/fasttrack-go/fasttrack/api#hdr-Commit_rule", 0},
	}
	for _, tt := range tests {
		if got := diaryFindings(tt.line); len(got) != tt.want {
			t.Errorf("diaryFindings(%q) = %q, want %d findings", tt.line, got, tt.want)
		}
	}
}
