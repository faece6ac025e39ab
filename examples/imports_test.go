// Package examples_test checks what holds for the examples as a whole.
package examples_test

import (
	"errors"
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyable are the examples users copy out of the module as a start: they
// may import only siogo's public packages (internal/ ones cannot be
// imported from another module). Their tests may use the repository's
// test helpers; they run only here, against the repository's testdata.
var copyable = []string{"chat", "tictactoe"}

const internalPrefix = "github.com/siogo/siogo/internal/"

func TestImportsArePublic(t *testing.T) {
	for _, example := range copyable {
		t.Run(example, func(t *testing.T) {
			pkgs := 0
			err := filepath.WalkDir(example, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.IsDir() {
					return err
				}
				if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				pkg, err := build.ImportDir(path, 0)
				var noGo *build.NoGoError
				if errors.As(err, &noGo) {
					return nil
				}
				if err != nil {
					return err
				}
				pkgs++
				for _, imp := range pkg.Imports {
					assert.Falsef(t, strings.HasPrefix(imp, internalPrefix),
						"%s imports %s: an example users copy must use only public packages", path, imp)
				}
				return nil
			})
			require.NoError(t, err)
			require.Positive(t, pkgs, "no Go package found in %s", example)
		})
	}
}
