package main

import "encoding/json"

// Mark is what a cell holds: Empty, X or O. X always moves first.
type Mark uint8

// The marks.
const (
	Empty Mark = iota
	X
	O
)

// String returns "", "X" or "O": the form the page receives.
func (m Mark) String() string {
	switch m {
	case X:
		return "X"
	case O:
		return "O"
	}
	return ""
}

// Other returns the opponent's mark (Empty for Empty).
func (m Mark) Other() Mark {
	switch m {
	case X:
		return O
	case O:
		return X
	}
	return Empty
}

// MarshalJSON encodes a mark as its string.
func (m Mark) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// Board is a tic-tac-toe board, cells numbered 0..8 row by row:
//
//	0 1 2
//	3 4 5
//	6 7 8
type Board [9]Mark

// Lines are the eight rows, columns and diagonals that win.
var Lines = [8][3]int{
	{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, // rows
	{0, 3, 6}, {1, 4, 7}, {2, 5, 8}, // columns
	{0, 4, 8}, {2, 4, 6}, // diagonals
}

// Outcome is the state of a board: a winner with its line, a draw (the
// board is full and nobody won), or neither (play goes on).
type Outcome struct {
	Winner Mark   // Empty unless someone has three in a line
	Line   [3]int // the winning cells, when Winner is set
	Draw   bool
}

// Over reports whether the game on the board is finished.
func (o Outcome) Over() bool { return o.Winner != Empty || o.Draw }

// Outcome judges the board. A board reached by legal play has at most one
// winner; on any other board the first winning line in Lines counts.
func (b *Board) Outcome() Outcome {
	for _, l := range Lines {
		if m := b[l[0]]; m != Empty && b[l[1]] == m && b[l[2]] == m {
			return Outcome{Winner: m, Line: l}
		}
	}
	for _, m := range b {
		if m == Empty {
			return Outcome{}
		}
	}
	return Outcome{Draw: true}
}

// Moves returns how many cells are taken.
func (b *Board) Moves() int {
	n := 0
	for _, m := range b {
		if m != Empty {
			n++
		}
	}
	return n
}

// Cells returns the board as the page receives it: nine "", "X" or "O".
func (b *Board) Cells() []string {
	out := make([]string, len(b))
	for i, m := range b {
		out[i] = m.String()
	}
	return out
}
