// Package fuzzy ranks near-miss strings so that a mistyped place, postcode or
// slug can be answered with "did you mean …?" rather than a bare refusal.
package fuzzy

import (
	"sort"
	"strings"
)

// Distance is the optimal-string-alignment edit distance between a and b:
// insertions, deletions, substitutions and adjacent transpositions each cost
// one. Transpositions matter because "mancehster" is a typical slip.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 {
		return len(rb)
	}
	if len(rb) == 0 {
		return len(ra)
	}
	// Three rolling rows: two back (for transpositions), previous, current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			best := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				best = min(best, prev2[j-2]+1)
			}
			cur[j] = best
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Candidate is one string that may be suggested, with the value to return
// when it is chosen (several spellings may lead to the same value).
type Candidate struct {
	Text  string
	Value string
}

// Closest returns up to n distinct values whose candidate text is nearest to
// input, best first. A candidate that starts with the input counts as a near
// match, so "manch" suggests "Manchester". Candidates further away than
// maxDist edits (and not prefixed by the input) are left out, so a wild
// guess yields no suggestions rather than misleading ones. Ties keep the
// order of cands, which lets callers put more important candidates first.
func Closest(input string, cands []Candidate, n, maxDist int) []string {
	input = strings.ToLower(strings.TrimSpace(input))
	if input == "" || n <= 0 {
		return nil
	}
	type scored struct {
		value string
		score int
		tie   int
		order int
	}
	best := make(map[string]scored)
	for i, c := range cands {
		text := strings.ToLower(c.Text)
		var score int
		switch {
		case text == input:
			score = 0
		case strings.HasPrefix(text, input) && len([]rune(input)) >= 2:
			// Still typing.
			score = 1
		default:
			// Compare against the candidate's prefix of similar length as
			// well, so a typo at the start of a long name still matches.
			d := Distance(input, text)
			if r := []rune(text); len(r) > len([]rune(input))+1 {
				d = min(d, Distance(input, string(r[:len([]rune(input))]))+1)
			}
			if d > maxDist {
				continue
			}
			score = d + 1
		}
		// Among equals, prefer a candidate the input starts with: a key
		// pressed once too often ("M70" for "M7").
		tie := 1
		if strings.HasPrefix(input, text) {
			tie = 0
		}
		if prev, ok := best[c.Value]; !ok || score < prev.score || (score == prev.score && tie < prev.tie) {
			best[c.Value] = scored{c.Value, score, tie, i}
		}
	}
	list := make([]scored, 0, len(best))
	for _, s := range best {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].score != list[j].score {
			return list[i].score < list[j].score
		}
		if list[i].tie != list[j].tie {
			return list[i].tie < list[j].tie
		}
		return list[i].order < list[j].order
	})
	out := make([]string, 0, n)
	for _, s := range list {
		if len(out) == n {
			break
		}
		out = append(out, s.value)
	}
	return out
}

// ClosestOf is Closest over plain strings, each its own value: the
// parameter names an endpoint takes, the genders listed therapists give.
func ClosestOf(input string, options []string, n, maxDist int) []string {
	cands := make([]Candidate, len(options))
	for i, o := range options {
		cands[i] = Candidate{Text: o, Value: o}
	}
	return Closest(input, cands, n, maxDist)
}
