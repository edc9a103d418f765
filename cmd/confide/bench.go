package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/confide-org/confide/internal/bench"
)

// peerList collects repeated --peer flags.
type peerList []string

func (p *peerList) String() string { return strings.Join(*p, ",") }

// Set adds a peer, refusing unknown ones.
func (p *peerList) Set(v string) error {
	switch v {
	case "sqlite", "postgres", "bleve":
		*p = append(*p, v)
		return nil
	}
	return fmt.Errorf("peer must be sqlite, postgres or bleve, not %q", v)
}

// benchOptions are the flags every `confide bench` command shares, as
// internal/bench takes them; logs go to stderr as the flags say.
func (c config) benchOptions(stderr io.Writer) bench.Options {
	return bench.Options{Therapists: c.Therapists, Queries: c.Queries, Seed: c.Seed, BenchDB: c.BenchDB, JSONPath: c.JSONOut,
		CPUProfile: c.CPUProfile, Log: newLogger(c, stderr)}
}

// benchSearchOptions are `confide bench search`'s flags.
func (c config) benchSearchOptions(stderr io.Writer) bench.SearchOptions {
	return bench.SearchOptions{Options: c.benchOptions(stderr), Peers: c.Peers, PeerURL: c.PeerURL}
}

// benchHTTPOptions are `confide bench http`'s flags.
func (c config) benchHTTPOptions(stderr io.Writer) bench.HTTPOptions {
	return bench.HTTPOptions{Options: c.benchOptions(stderr), DatabaseURL: c.DatabaseURL, Duration: c.BenchDuration,
		Connections: c.Connections, Wrk: c.WrkBinary}
}

// benchLiveOptions are `confide bench live`'s flags.
func (c config) benchLiveOptions(stderr io.Writer) bench.LiveOptions {
	return bench.LiveOptions{Options: c.benchOptions(stderr), Duration: c.BenchDuration, EditsPerSecond: c.EditRate, Workers: c.Workers}
}
