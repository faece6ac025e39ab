//go:build !race

package sioparser

const raceEnabled = false
