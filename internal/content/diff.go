package content

import (
	"fmt"
	"strings"
)

// Text is the whole of a revision as lines, in the order an editor reads
// it, so that a diff shows every change: title, summary, body, FAQs,
// sources, funding.
func (r *Revision) Text() []string {
	var lines []string
	add := func(s ...string) { lines = append(lines, s...) }
	add("# "+r.Title, "", "Summary: "+r.Summary, "")
	add(strings.Split(r.Body, "\n")...)
	add("", "## FAQs")
	for _, f := range r.FAQs {
		add("Q: " + f.Question)
		add(strings.Split("A: "+f.Answer, "\n")...)
	}
	add("", "## Sources")
	for _, s := range r.Sources {
		add(fmt.Sprintf("- %s | %s | %d | %s", s.Title, s.Publisher, s.Year, s.URL))
	}
	add("", "Funding: "+r.Funding)
	return lines
}

// Op says whether a diff line was kept, removed or added.
type Op byte

// The diff operations.
const (
	Same   Op = ' '
	Delete Op = '-'
	Insert Op = '+'
)

// DiffLine is one line of a diff.
type DiffLine struct {
	Op   Op
	Text string
}

// Diff returns the line diff that turns a into b: a longest common
// subsequence, so unchanged lines are kept in place and only real changes
// are marked. Articles are at most a few thousand lines, so the quadratic
// table is small.
func Diff(a, b []string) []DiffLine {
	n, m := len(a), len(b)
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{Same, a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{Delete, a[i]})
			i++
		default:
			out = append(out, DiffLine{Insert, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{Delete, a[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{Insert, b[j]})
	}
	return out
}

// Apply rebuilds b from a diff (the kept and inserted lines), which tests
// use to check a diff against its inputs.
func Apply(d []DiffLine) (a, b []string) {
	for _, l := range d {
		if l.Op != Insert {
			a = append(a, l.Text)
		}
		if l.Op != Delete {
			b = append(b, l.Text)
		}
	}
	return a, b
}
