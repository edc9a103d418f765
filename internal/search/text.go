package search

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Analyzer turns text into index terms: lower case, split on anything that
// is not a letter or digit (apostrophes inside words are dropped, so
// "don't" is "dont"), common English words removed, and each word reduced
// to its Porter2 (Snowball English) stem, so "anxious", "anxiety" and
// "anxieties" meet. Stems are cached: a directory's vocabulary is small and
// stemming is the costliest step of building the index.
type Analyzer struct {
	mu    sync.RWMutex
	stems map[string]string
}

// maxCachedStems bounds the stem cache so hostile query text cannot grow
// it without limit.
const maxCachedStems = 200_000

// NewAnalyzer returns an analyzer with an empty cache.
func NewAnalyzer() *Analyzer {
	return &Analyzer{stems: make(map[string]string)}
}

// words splits text into lower-case words. The word passed to fn is only
// valid during the call: it reuses one buffer, so splitting allocates
// nothing for text already seen.
func words(text string, fn func(word []byte)) {
	var buf [64]byte
	b := buf[:0]
	flush := func() {
		if len(b) > 0 {
			fn(b)
			b = b[:0]
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				b = append(b, c)
			case 'A' <= c && c <= 'Z':
				b = append(b, c+'a'-'A')
			case c == '\'':
				// Inside a word: skip it, joining "don't" into "dont".
			default:
				flush()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b = utf8.AppendRune(b, unicode.ToLower(r))
		case r == '’':
		default:
			flush()
		}
	}
	flush()
}

// Stem reduces one lower-case word to its stem.
func (a *Analyzer) Stem(word string) string {
	return a.stem([]byte(word))
}

func (a *Analyzer) stem(word []byte) string {
	a.mu.RLock()
	s, ok := a.stems[string(word)]
	a.mu.RUnlock()
	if ok {
		return s
	}
	w := string(word)
	s = english.Stem(w, true)
	if s == "" {
		s = w
	}
	a.mu.Lock()
	if len(a.stems) < maxCachedStems {
		a.stems[w] = s
	}
	a.mu.Unlock()
	return s
}

// Terms calls fn with the stem of every searchable word of text, in order.
func (a *Analyzer) Terms(text string, fn func(term string)) {
	words(text, func(w []byte) {
		if stopWords[string(w)] {
			return
		}
		fn(a.stem(w))
	})
}

// QueryTerms is the parsed form of free-text input.
type QueryTerms struct {
	// Exact are stems every match must contain, in input order, without
	// repeats.
	Exact []string
	// Last is the final word, which may still be being typed: a match
	// contains its stem, or a term starting with LastRaw (when LastRaw is at
	// least MinPrefixLen long).
	Last    string
	LastRaw string
}

// MinPrefixLen is the shortest final word that is also matched as a prefix;
// shorter ones would match half the vocabulary.
const MinPrefixLen = 3

// Empty reports whether the text had no searchable words.
func (q QueryTerms) Empty() bool { return q.Last == "" }

// ParseQueryTerms analyses free text as typed into the search box.
func (a *Analyzer) ParseQueryTerms(text string) QueryTerms {
	var raws []string
	words(text, func(w []byte) {
		if !stopWords[string(w)] {
			raws = append(raws, string(w))
		}
	})
	var q QueryTerms
	if len(raws) == 0 {
		return q
	}
	q.LastRaw = raws[len(raws)-1]
	q.Last = a.Stem(q.LastRaw)
	seen := map[string]bool{q.Last: true}
	for _, w := range raws[:len(raws)-1] {
		s := a.Stem(w)
		if !seen[s] {
			seen[s] = true
			q.Exact = append(q.Exact, s)
		}
	}
	return q
}

// MatchesLast reports whether an index term satisfies the final query word.
func (q QueryTerms) MatchesLast(term string) bool {
	return term == q.Last || (len(q.LastRaw) >= MinPrefixLen && strings.HasPrefix(term, q.LastRaw))
}

// stopWords are left out of the index and of queries: they say nothing
// about one therapist as against another, and would make "every word must
// match" fail on "help for anxiety" or "counsellor near me".
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be
		because been before being below between both but by can could did do does doing down during each
		few for from further had has have having he her here hers herself him himself his how i if in into
		is it its itself just me more most my myself no nor not now of off on once only or other our ours
		ourselves out over own same she should so some such than that the their theirs them themselves then
		there these they this those through to too under until up very was we were what when where which
		while who whom why will with would you your yours yourself yourselves
		therapist therapists therapy therapies counsellor counsellors counselor counselors counselling
		counseling psychotherapist psychotherapists help near`) {
		m[w] = true
	}
	return m
}()
