//go:build !race

package eioparser

const raceEnabled = false
