package hsds

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
)

// namespace is the fixed UUID every HSDS id here is derived under. HSDS
// ids must be UUIDs and must not change between exports or requests, or
// a consumer that merges feeds would see each therapist as new every
// time; a name-based (version 5) UUID of the profile's internal id gives
// both, and reveals neither that id nor how many profiles exist. It must
// never change: every published id depends on it.
var namespace = [16]byte{0x33, 0x98, 0x42, 0x94, 0x4f, 0x76, 0x42, 0x64, 0x8d, 0xf5, 0xed, 0xd1, 0x32, 0x1c, 0xa9, 0xb4}

// uuid5 is the RFC 9562 name-based UUID (SHA-1, version 5) of name in
// namespace, in its canonical lower-case text form.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b strings.Builder
	b.Grow(36)
	for i, part := range [][]byte{u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]} {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(hex.EncodeToString(part))
	}
	return b.String()
}

// id names one HSDS record: its table, the profile it comes from and,
// for tables with several rows per profile, which one. The table is part
// of the name, so a service and its organization never share an id.
func id(table string, profile int64, part ...string) string {
	name := table + "/" + strconv.FormatInt(profile, 10)
	for _, p := range part {
		name += "/" + p
	}
	return uuid5(name)
}

// OrganizationID is the id of the sole practice of profile pid.
func OrganizationID(pid int64) string { return id("organization", pid) }

// ServiceID is the id of the service of profile pid.
func ServiceID(pid int64) string { return id("service", pid) }

// LocationID is the id of practice n (0-based) of profile pid.
func LocationID(pid int64, n int) string { return id("location", pid, strconv.Itoa(n+1)) }

// OnlineLocationID is the id of the virtual location standing for
// sessions by video.
func OnlineLocationID(pid int64) string { return id("location", pid, "online") }

// ServiceAtLocationID is the id of the service of profile pid at its
// practice n (0-based).
func ServiceAtLocationID(pid int64, n int) string {
	return id("service_at_location", pid, strconv.Itoa(n+1))
}

// OnlineServiceAtLocationID is the id of the service offered online.
func OnlineServiceAtLocationID(pid int64) string { return id("service_at_location", pid, "online") }

// TaxonomyTermID is the id of a taxonomy term by its code. It does not
// depend on any profile, so the same term has the same id everywhere.
func TaxonomyTermID(code string) string { return uuid5("taxonomy_term/" + code) }

// TaxonomyID is the id of one of the published taxonomies.
func TaxonomyID(name string) string { return uuid5("taxonomy/" + name) }
