package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Wrk describes one run of the wrk HTTP load generator (Debian's package
// `wrk`) against a server.
type Wrk struct {
	Binary      string        // path or name of wrk; "wrk" when empty
	BaseURL     string        // e.g. http://127.0.0.1:8080
	Paths       []string      // request paths with queries, taken in turn
	Connections int           // connections kept open
	Threads     int           // wrk threads
	Duration    time.Duration // how long to send
	Dir         string        // where to write the path list and script
}

// WrkResult is what one wrk run measured. Latencies are wrk's own
// percentiles, in microseconds.
type WrkResult struct {
	Requests   int     `json:"requests"`
	Seconds    float64 `json:"seconds"`
	RPS        float64 `json:"rps"`
	Latency    Latency `json:"latency"`
	Non2xx     int     `json:"non_2xx"`
	SockErrors int     `json:"socket_errors"`
}

// wrkScript takes the paths in turn (each thread starting at a different
// place), counts answers outside 200–299 in every thread and prints one
// machine-readable line at the end.
const wrkScript = `
local paths = {}
for line in io.lines(%q) do paths[#paths + 1] = line end
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end
local n = 0
bad = 0
function init(args) n = offset end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format("CONFIDE requests=%%d duration_us=%%d non2xx=%%d sockerr=%%d p50=%%d p90=%%d p99=%%d max=%%d n=%%d\n",
    summary.requests, summary.duration, b, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, summary.requests))
end
`

// Run runs wrk and reads its result line.
func (w Wrk) Run(ctx context.Context) (WrkResult, error) {
	if len(w.Paths) == 0 {
		return WrkResult{}, errors.New("wrk: no paths")
	}
	for _, p := range w.Paths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\r\n") {
			return WrkResult{}, fmt.Errorf("wrk: bad path %q", p)
		}
	}
	list := filepath.Join(w.Dir, "paths.txt")
	if err := os.WriteFile(list, []byte(strings.Join(w.Paths, "\n")+"\n"), 0o600); err != nil {
		return WrkResult{}, err
	}
	script := filepath.Join(w.Dir, "mix.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, list)), 0o600); err != nil {
		return WrkResult{}, err
	}
	bin := w.Binary
	if bin == "" {
		bin = "wrk"
	}
	secs := max(1, int(w.Duration.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, bin, "-t", strconv.Itoa(w.Threads), "-c", strconv.Itoa(w.Connections),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "-s", script, w.BaseURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return ParseWrk(string(out))
}

var wrkLine = regexp.MustCompile(`CONFIDE requests=(\d+) duration_us=(\d+) non2xx=(\d+) sockerr=(\d+) p50=(\d+) p90=(\d+) p99=(\d+) max=(\d+) n=(\d+)`)

// ParseWrk reads the result line the script prints.
func ParseWrk(out string) (WrkResult, error) {
	m := wrkLine.FindStringSubmatch(out)
	if m == nil {
		return WrkResult{}, fmt.Errorf("wrk: no result line in its output: %q", out)
	}
	var v [9]float64
	for i := range v {
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return WrkResult{}, fmt.Errorf("wrk: %w", err)
		}
		v[i] = f
	}
	r := WrkResult{Requests: int(v[0]), Seconds: v[1] / 1e6, Non2xx: int(v[2]), SockErrors: int(v[3]),
		Latency: Latency{P50: v[4], P90: v[5], P99: v[6], Max: v[7], N: int(v[8])}}
	if r.Seconds <= 0 {
		return WrkResult{}, errors.New("wrk: ran for no time")
	}
	r.RPS = float64(r.Requests) / r.Seconds
	return r, nil
}
