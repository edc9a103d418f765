package httpx

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Check is one condition a process must meet before it takes traffic.
type Check struct {
	// Name identifies the check in logs.
	Name string
	// Reason is what a failing check says on the public probe: a fixed,
	// short phrase such as "search index not built yet", never an error
	// text that could reveal paths or addresses.
	Reason string
	// Run returns nil when the condition holds.
	Run func(ctx context.Context) error
}

// readyBody is the readiness probe's answer.
type readyBody struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing,omitempty"`
}

// Ready answers readiness probes (/readyz): 200 {"status":"ready"} when
// every check passes, otherwise 503 {"status":"not ready","failing":[…]}
// listing the failing checks' reasons, so that a load balancer holds
// traffic back from a process that is starting or cut off from its
// database. Errors go to the log, not the response. Checks run one after
// another within timeout.
func Ready(log *slog.Logger, timeout time.Duration, checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		body := readyBody{Status: "ready"}
		status := http.StatusOK
		for _, c := range checks {
			if err := c.Run(ctx); err != nil {
				log.WarnContext(ctx, "not ready", "check", c.Name, "err", err)
				body.Status, status = "not ready", http.StatusServiceUnavailable
				body.Failing = append(body.Failing, c.Reason)
			}
		}
		b, _ := json.Marshal(body) // strings only: cannot fail
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write(append(b, '\n'))
	})
}
