package bench

import (
	"strings"
	"testing"
)

func TestParseWrk(t *testing.T) {
	for _, tt := range []struct {
		name, out string
		want      WrkResult
		err       string
	}{
		{
			name: "result line among wrk's own output",
			out: "Running 5s test @ http://127.0.0.1:1\n  2 threads and 32 connections\n" +
				"CONFIDE requests=1000 duration_us=5000000 non2xx=3 sockerr=1 p50=900 p90=1500 p99=4000 max=9000 n=1000\n",
			want: WrkResult{Requests: 1000, Seconds: 5, RPS: 200, Non2xx: 3, SockErrors: 1,
				Latency: Latency{N: 1000, P50: 900, P90: 1500, P99: 4000, Max: 9000}},
		},
		{name: "no result line", out: "unable to connect to 127.0.0.1:1 Connection refused\n", err: "no result line"},
		{name: "no time", out: "CONFIDE requests=0 duration_us=0 non2xx=0 sockerr=0 p50=0 p90=0 p99=0 max=0 n=0", err: "ran for no time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWrk(tt.out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	us := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	got := Summarize(us)
	want := Latency{N: 10, P50: 5, P90: 9, P99: 10, Max: 10}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if (Summarize(nil) != Latency{}) {
		t.Fatal("empty input should give a zero summary")
	}
}
