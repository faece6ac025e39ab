//go:build race

package main

// raceEnabled: the tests build siocat with -race when they run with it.
const raceEnabled = true
