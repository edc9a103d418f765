//go:build race

package main

// raceDetector is true in a -race build, where everything runs several
// times slower: tests that exist for their size run a smaller size there.
const raceDetector = true
