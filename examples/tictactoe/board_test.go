package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// board parses a board drawn as nine characters: 'X', 'O' or '.' (spaces
// are ignored), row by row.
func board(t *testing.T, s string) Board {
	t.Helper()
	s = strings.ReplaceAll(s, " ", "")
	require.Len(t, s, 9, "board %q", s)
	var b Board
	for i, c := range s {
		switch c {
		case 'X':
			b[i] = X
		case 'O':
			b[i] = O
		case '.':
		default:
			t.Fatalf("bad cell %q", c)
		}
	}
	return b
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name  string
		board string
		want  Outcome
	}{
		{"empty", "... ... ...", Outcome{}},
		{"one move", "... .X. ...", Outcome{}},
		{"top row", "XXX OO. ...", Outcome{Winner: X, Line: [3]int{0, 1, 2}}},
		{"middle row", "X.X OOO X..", Outcome{Winner: O, Line: [3]int{3, 4, 5}}},
		{"bottom row", "OO. X.. XXX", Outcome{Winner: X, Line: [3]int{6, 7, 8}}},
		{"left column", "OX. OX. O.X", Outcome{Winner: O, Line: [3]int{0, 3, 6}}},
		{"middle column", "OX. .X. OX.", Outcome{Winner: X, Line: [3]int{1, 4, 7}}},
		{"right column", "X.O X.O .XO", Outcome{Winner: O, Line: [3]int{2, 5, 8}}},
		{"diagonal", "XO. OX. ..X", Outcome{Winner: X, Line: [3]int{0, 4, 8}}},
		{"anti-diagonal", "X.O XO. O.X", Outcome{Winner: O, Line: [3]int{2, 4, 6}}},
		{"win on the last cell", "XOX OXO OXX", Outcome{Winner: X, Line: [3]int{0, 4, 8}}},
		{"draw", "XOX XOO OXX", Outcome{Draw: true}},
		{"another draw", "OXO OXX XOX", Outcome{Draw: true}},
		{"almost full", "XOX XOO OX.", Outcome{}},
		{"two in a row only", "XX. OO. ...", Outcome{}},
		{"mixed line", "XOX ... ...", Outcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := board(t, tt.board)
			got := b.Outcome()
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Winner != Empty || tt.want.Draw, got.Over())
		})
	}
}

// TestEveryLineWins checks every line of Lines for both marks.
func TestEveryLineWins(t *testing.T) {
	for _, m := range []Mark{X, O} {
		for _, l := range Lines {
			t.Run(fmt.Sprint(m, l), func(t *testing.T) {
				var b Board
				for _, i := range l {
					b[i] = m
				}
				assert.Equal(t, Outcome{Winner: m, Line: l}, b.Outcome())
			})
		}
	}
}

func TestMark(t *testing.T) {
	tests := []struct {
		m     Mark
		str   string
		other Mark
	}{
		{Empty, "", Empty},
		{X, "X", O},
		{O, "O", X},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.str, tt.m.String())
		assert.Equal(t, tt.other, tt.m.Other())
		b, err := json.Marshal(tt.m)
		require.NoError(t, err)
		assert.Equal(t, `"`+tt.str+`"`, string(b))
	}
}

func TestBoardCellsAndMoves(t *testing.T) {
	b := board(t, "X.O .X. ..O")
	assert.Equal(t, 4, b.Moves())
	assert.Equal(t, []string{"X", "", "O", "", "X", "", "", "", "O"}, b.Cells())
	var empty Board
	assert.Equal(t, 0, empty.Moves())
}

func TestValidName(t *testing.T) {
	tests := []struct {
		in, want string
		err      string
	}{
		{"ann", "ann", ""},
		{"  Ann  Smith ", "Ann Smith", ""},
		{"Zoë 🎲", "Zoë 🎲", ""},
		{"<b>x</b>", "<b>x</b>", ""}, // shown as text by the page
		{"", "", string(errNameEmpty)},
		{" \t ", "", string(errNameEmpty)},
		{strings.Repeat("é", 20), strings.Repeat("é", 20), ""},
		{strings.Repeat("é", 21), "", "Names have at most 20 characters."},
		{"a\x00b", "", string(errNameChars)},
		{"a\x1bb", "", string(errNameChars)},
		{"a\u0085b", "a b", ""}, // NEL is white space
	}
	for _, tt := range tests {
		got, err := validName(tt.in)
		if tt.err != "" {
			assert.EqualError(t, err, tt.err, "%q", tt.in)
			continue
		}
		assert.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got)
	}
}
