//go:build race

package search_test

// raceEnabled is true in a -race build, where sync.Pool drops some of what
// it is given (to shake out reuse bugs), so allocations are not measured.
const raceEnabled = true
