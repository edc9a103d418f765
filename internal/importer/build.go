package importer

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/confide-org/confide/internal/directory"
	"github.com/confide-org/confide/internal/errs"
	"github.com/confide-org/confide/internal/geo"
	"github.com/confide-org/confide/internal/taxonomy"
)

// Key identifies a register membership: the unit an import upserts by.
type Key struct {
	Body, Number string
}

// Entry is a row that passed every check: the profile it describes and a
// digest of it.
type Entry struct {
	Line    int
	Key     Key
	Profile directory.Profile
	Digest  string
	// Register is the body's name, for the claim invitation.
	Register string
}

// Builder turns rows into profiles with the directory's own rules.
type Builder struct {
	Tax       *taxonomy.Taxonomy
	Gaz       *geo.Gazetteer
	Validator directory.Validator
	Now       func() time.Time
}

// columnOf names the import column behind a profile field the validator
// reports.
var columnOf = map[string]string{"display_name": "name", "contact_email": "email", "headline": "headline", "approaches": "approaches",
	"issues": "issues", "client_groups": "client_groups", "formats": "formats", "languages": "languages", "gender": "gender",
	"fee_min": "fee_min", "fee_max": "fee_max", "locations[0].postcode": "postcode", "locations": "postcode"}

var (
	numberRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 /.\-]*$`)
	moneyRe  = regexp.MustCompile(`^£?([0-9]{1,5})(\.[0-9]{1,2})?$`)
	listSep  = regexp.MustCompile(`[;|]`)
	slugAlph = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
)

// kindNoun names a vocabulary in a sentence ("not an issue we know").
var kindNoun = map[taxonomy.Kind]string{taxonomy.Approach: "an approach", taxonomy.Issue: "an issue", taxonomy.Client: "a client group", taxonomy.Format: "a format"}

// Build checks rows and returns the good ones as entries, and a problem
// for every bad cell (all of them, not only the first of a row). Two rows
// with the same membership are both kept out of the import after the
// first: which one is right is for a person to decide.
func (b *Builder) Build(rows []Row) ([]Entry, []Problem) {
	var entries []Entry
	var problems []Problem
	firstLine := map[Key]int{}
	firstEmail := map[string]int{}
	now := b.Now()
	idx := b.termIndex()
	for _, r := range rows {
		e, probs := b.row(r, now, idx)
		if len(probs) == 0 {
			email := strings.ToLower(e.Profile.ContactEmail)
			if prev, dup := firstLine[e.Key]; dup {
				probs = append(probs, Problem{Line: r.Line, Column: "membership_number",
					Reason: fmt.Sprintf("%s membership %s is already on line %d", strings.ToUpper(e.Key.Body), e.Key.Number, prev)})
			} else if prev, dup := firstEmail[email]; dup {
				// One person, one profile: a second register membership is
				// added by a verifier when they submit it, not by import.
				probs = append(probs, Problem{Line: r.Line, Column: "email",
					Reason: fmt.Sprintf("%s is already on line %d (one profile per person: they can add this membership when they claim it)", email, prev)})
			} else {
				firstLine[e.Key], firstEmail[email] = r.Line, r.Line
			}
		}
		if len(probs) > 0 {
			problems = append(problems, probs...)
			continue
		}
		entries = append(entries, e)
	}
	return entries, problems
}

func (b *Builder) row(r Row, now time.Time, idx termIndex) (Entry, []Problem) {
	var probs []Problem
	bad := func(col, format string, args ...any) {
		probs = append(probs, Problem{Line: r.Line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	get := func(col string) string { return r.Fields[col] }
	for _, col := range Required {
		if get(col) == "" {
			bad(col, "required, and empty")
		}
	}
	p := directory.Profile{DisplayName: get("name"), ContactEmail: get("email"), Headline: get("headline"), Gender: get("gender"),
		Availability: directory.Accepting, Verification: directory.Verification{State: directory.Unverified}}
	body, ok := b.body(get("body"))
	if get("body") != "" && !ok {
		bad("body", "%q is not a professional body we know (use its short name, such as BACP or UKCP)", get("body"))
	}
	number := strings.Join(strings.Fields(get("membership_number")), " ")
	if number != "" && (len(number) > directory.MaxMembershipLen || !numberRe.MatchString(number)) {
		bad("membership_number", "must be 1 to %d letters, digits, spaces, hyphens, full stops or slashes", directory.MaxMembershipLen)
	}
	if p.Headline == "" && ok {
		level := get("level")
		if level == "" {
			level = "Member"
		}
		p.Headline = fmt.Sprintf("%s, %s", level, body.Name)
	}
	if pc := get("postcode"); pc != "" {
		p.Locations = []directory.Location{{Postcode: pc}}
	}
	terms := func(col string, kind taxonomy.Kind) []string {
		var out []string
		for _, v := range split(get(col)) {
			slug, found := idx[kind][normTerm(v)]
			if !found {
				hint := ""
				if s := b.Tax.Suggest(kind, v, 1); len(s) > 0 {
					hint = fmt.Sprintf(" (did you mean %q?)", s[0])
				}
				bad(col, "%q is not %s we know%s", v, kindNoun[kind], hint)
				continue
			}
			out = append(out, slug)
		}
		return out
	}
	p.Approaches = terms("approaches", taxonomy.Approach)
	p.Issues = terms("issues", taxonomy.Issue)
	p.ClientGroups = terms("client_groups", taxonomy.Client)
	p.Formats = terms("formats", taxonomy.Format)
	if len(p.ClientGroups) == 0 && get("client_groups") == "" {
		p.ClientGroups = []string{"individuals"} // the therapist checks it when claiming
	}
	for _, v := range split(get("languages")) {
		code, found := b.language(v)
		if !found {
			bad("languages", "%q is not a language we know (use a two-letter code such as en, or its English name)", v)
			continue
		}
		p.Languages = append(p.Languages, code)
	}
	if len(p.Languages) == 0 && get("languages") == "" {
		p.Languages = []string{"en"}
	}
	p.FeeMinPence = b.fee(get("fee_min"), "fee_min", bad)
	p.FeeMaxPence = b.fee(get("fee_max"), "fee_max", bad)
	if get("fee_max") == "" {
		p.FeeMaxPence = p.FeeMinPence
	}
	switch strings.ToLower(get("concessions")) {
	case "", "no", "false", "0", "n":
	case "yes", "true", "1", "y":
		p.Concessions = true
	default:
		bad("concessions", "%q must be yes or no", get("concessions"))
	}
	if len(probs) > 0 {
		return Entry{}, probs
	}
	key := Key{Body: body.Slug, Number: number}
	sum := sha256.Sum256([]byte(key.Body + "\x00" + strings.ToUpper(key.Number)))
	p.Slug = directory.Slugify(p.DisplayName)
	if len(p.Slug) > directory.MaxSlugLen-8 {
		p.Slug = strings.TrimSuffix(p.Slug[:directory.MaxSlugLen-8], "-")
	}
	// A slug no other profile can have, so an import never collides with
	// (and never has to retry past) an existing address.
	p.Slug += "-" + slugAlph.EncodeToString(sum[:])[:7]
	b.Validator.Normalize(&p)
	if err := b.Validator.Validate(&p, now); err != nil {
		fe, _ := errs.FieldsOf(err)
		for _, field := range fe.Names() {
			col, known := columnOf[field]
			if !known {
				col = field
			}
			bad(col, "%s", fe[field])
		}
		return Entry{}, probs
	}
	return Entry{Line: r.Line, Key: key, Profile: p, Digest: digest(key, &p), Register: body.Name}, nil
}

// digest is a hash of everything an import sets on a profile: the same
// row imported again has the same digest and changes nothing.
func digest(k Key, p *directory.Profile) string {
	b, _ := json.Marshal(struct {
		K Key
		P []any
	}{k, []any{p.DisplayName, p.ContactEmail, p.Headline, p.Gender, p.Locations, p.Approaches, p.Issues, p.ClientGroups,
		p.Formats, p.Languages, p.FeeMinPence, p.FeeMaxPence, p.Concessions, p.Slug}})
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum[:16])
}

func split(s string) []string {
	var out []string
	for _, v := range listSep.Split(s, -1) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// body finds a professional body by slug, abbreviation or name.
func (b *Builder) body(s string) (taxonomy.Body, bool) { return FindBody(b.Tax, s) }

// FindBody finds a professional body by its slug ("bacp"), abbreviation
// ("BACP") or name, in any case: the ways a person names one in a file or
// on the command line.
func FindBody(tax *taxonomy.Taxonomy, s string) (taxonomy.Body, bool) {
	s = strings.TrimSpace(s)
	for _, body := range tax.Bodies {
		if strings.EqualFold(s, body.Slug) || strings.EqualFold(s, body.Abbreviation) || strings.EqualFold(s, body.Name) {
			return body, true
		}
	}
	return taxonomy.Body{}, false
}

// term finds a vocabulary term by slug, label or synonym, ignoring case
// and the difference between hyphens, underscores and spaces.
// termIndex finds a vocabulary's term by its slug, label or any synonym,
// ignoring case, hyphens, underscores and spacing: built once per file,
// since a register has thousands of rows and every cell would otherwise
// walk the whole vocabulary.
type termIndex map[taxonomy.Kind]map[string]string

func normTerm(x string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("-", " ", "_", " ").Replace(strings.ToLower(x))), " ")
}

func (b *Builder) termIndex() termIndex {
	idx := termIndex{}
	for _, kind := range []taxonomy.Kind{taxonomy.Approach, taxonomy.Issue, taxonomy.Client, taxonomy.Format} {
		m := map[string]string{}
		// The first term to claim a name keeps it, as the walk did.
		add := func(name, slug string) {
			if _, taken := m[normTerm(name)]; !taken {
				m[normTerm(name)] = slug
			}
		}
		for _, t := range b.Tax.Terms(kind) {
			add(t.Slug, t.Slug)
			add(t.Label, t.Slug)
		}
		for _, t := range b.Tax.Terms(kind) {
			for _, syn := range t.Synonyms {
				add(syn, t.Slug)
			}
		}
		idx[kind] = m
	}
	return idx
}

// language finds a language by ISO 639-1 code or English name.
func (b *Builder) language(s string) (string, bool) {
	if l, ok := b.Tax.Language(strings.ToLower(s)); ok {
		return l.Code, true
	}
	for _, l := range b.Tax.Languages {
		if strings.EqualFold(l.Name, s) {
			return l.Code, true
		}
	}
	return "", false
}

// fee reads an amount in pounds ("45", "£45.50"), or 0 when empty.
func (b *Builder) fee(s, col string, bad func(string, string, ...any)) int {
	if s == "" {
		return 0
	}
	m := moneyRe.FindStringSubmatch(strings.ReplaceAll(s, ",", ""))
	if m == nil {
		bad(col, "%q must be an amount in pounds, such as 45 or £45.50", s)
		return 0
	}
	f, _ := strconv.ParseFloat(strings.TrimPrefix(strings.ReplaceAll(s, ",", ""), "£"), 64)
	return int(math.Round(f * 100))
}
