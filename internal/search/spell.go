package search

import (
	"slices"
	"sort"
	"strings"

	"github.com/confide-org/confide/internal/fuzzy"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Keyword search forgives slips the way the place box does: a word that
// matches nothing in the index, and is one or two edits from a word of the
// vocabulary (the taxonomy's labels and synonyms, the words a directory's
// searches are made of), is searched as that word, and the page says so.
// The rewrite happens in the parser, before any engine sees the query, so
// the index and the SQL peers answer the same corrected question.

// Correction is one word searched for as another.
type Correction struct {
	From, To string
}

// Vocabulary tells the parser whether the index knows a word.
type Vocabulary interface {
	// HasTerm reports whether some indexed profile has the stem, or (when
	// prefix is set) a term starting with it.
	HasTerm(stem string, prefix string) bool
}

// HasTerm implements Vocabulary.
func (ix *Index) HasTerm(stem, prefix string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.omu.RLock()
	defer ix.omu.RUnlock()
	for _, seg := range []*segment{ix.main, ix.recent} {
		if id, ok := seg.termIDs[stem]; ok && !seg.postings[id].IsEmpty() {
			return true
		}
		if len(prefix) < MinPrefixLen {
			continue
		}
		// The first live term with the prefix settles it: this runs on
		// every text search, so it neither lists them all nor allocates.
		i := sort.Search(len(seg.sorted), func(k int) bool { return seg.termStr[seg.sorted[k]] >= prefix })
		for ; i < len(seg.sorted) && strings.HasPrefix(seg.termStr[seg.sorted[i]], prefix); i++ {
			if !seg.postings[seg.sorted[i]].IsEmpty() {
				return true
			}
		}
	}
	return false
}

// speller knows the vocabulary's words, for correcting slips.
type speller struct {
	words []fuzzy.Candidate // Text: the word; Value: the word too
}

// speller lists the vocabulary afresh: a few hundred words, read only
// when a word is unknown, so it is not worth a cache (which the Parser,
// a plain struct copied freely, could not hold safely).
func (p *Parser) speller() *speller {
	sp := &speller{}
	seen := map[string]bool{}
	add := func(text string) {
		words(text, func(w []byte) {
			word := string(w)
			if len(word) < 4 || stopWords[word] || seen[word] {
				return
			}
			seen[word] = true
			sp.words = append(sp.words, fuzzy.Candidate{Text: word, Value: word})
		})
	}
	tax := p.Tax
	for _, kind := range []taxonomy.Kind{taxonomy.Issue, taxonomy.Approach, taxonomy.Client, taxonomy.Format} {
		for _, t := range tax.Terms(kind) {
			add(t.Label)
			for _, s := range t.Synonyms {
				add(s)
			}
		}
	}
	return sp
}

// editsAllowed is how many slips a word of n letters may carry and still
// be taken for another: none below four letters (too many words are one
// edit apart), one up to seven, two from eight.
func editsAllowed(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	}
	return 2
}

// correct returns the vocabulary word raw is a slip of, or "" when there
// is no single one within reach; loose widens the reach by one edit, for
// a "did you mean" offered when nothing was found.
func (sp *speller) correct(raw string, loose bool) string {
	max := editsAllowed(len([]rune(raw)))
	if max == 0 {
		return ""
	}
	if loose {
		max++
	}
	best := fuzzy.Closest(raw, sp.words, 2, max)
	if len(best) == 0 || strings.HasPrefix(best[0], raw) {
		// A prefix is not a slip: "anx" is still being typed.
		return ""
	}
	if len(best) > 1 && fuzzy.Distance(raw, best[0]) == fuzzy.Distance(raw, best[1]) {
		return "" // two words as close: do not guess
	}
	return best[0]
}

// spell corrects the words of terms that the index does not know. It
// returns the corrected terms and what was corrected; words the index
// knows, or that are no clear slip, are left as typed.
func (p *Parser) spell(text string, terms QueryTerms) (QueryTerms, []Correction) {
	if p.Vocabulary == nil || terms.Empty() {
		return terms, nil
	}
	var raws []string
	words(text, func(w []byte) {
		if !stopWords[string(w)] {
			raws = append(raws, string(w))
		}
	})
	var out []Correction
	var sp *speller // listed once, and only if some word is unknown
	fixed := make([]string, 0, len(raws))
	for i, raw := range raws {
		last := i == len(raws)-1
		prefix := ""
		if last {
			prefix = raw
		}
		if p.Vocabulary.HasTerm(p.Analyzer.Stem(raw), prefix) {
			fixed = append(fixed, raw)
			continue
		}
		if sp == nil {
			sp = p.speller()
		}
		if to := sp.correct(raw, false); to != "" && p.Vocabulary.HasTerm(p.Analyzer.Stem(to), "") {
			out = append(out, Correction{From: raw, To: to})
			fixed = append(fixed, to)
			continue
		}
		fixed = append(fixed, raw)
	}
	if len(out) == 0 {
		return terms, nil
	}
	return p.Analyzer.ParseQueryTerms(strings.Join(fixed, " ")), out
}

// DidYouMean is text with each word the index does not know replaced by
// the nearest vocabulary word, one edit further than the parser corrects
// on its own, or "" when that changes nothing: offered when a search
// finds nobody.
func (p *Parser) DidYouMean(text string) string {
	if p.Vocabulary == nil {
		return ""
	}
	var out []string
	var sp *speller
	changed := false
	words(text, func(w []byte) {
		raw := string(w)
		if stopWords[raw] || p.Vocabulary.HasTerm(p.Analyzer.Stem(raw), "") {
			out = append(out, raw)
			return
		}
		if sp == nil {
			sp = p.speller()
		}
		if to := sp.correct(raw, true); to != "" && !slices.Contains(out, to) && p.Vocabulary.HasTerm(p.Analyzer.Stem(to), "") {
			out = append(out, to)
			changed = true
			return
		}
		out = append(out, raw)
	})
	if !changed {
		return ""
	}
	return strings.Join(out, " ")
}
