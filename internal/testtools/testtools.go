// Package testtools finds the external programs some tests need (node,
// redis-server, nginx, chromium) and the npm packages in
// testdata/node_modules. Every test that needs one goes through Require or
// RequireNodeModules, so the rule is the same everywhere:
//
//   - plain `go test ./...` on a machine without the tool skips the test,
//     with a message naming what is missing;
//   - with the environment variable CI set (non-empty) or
//     SIOGO_REQUIRE_TOOLS=1 (make test sets it), a missing tool fails the
//     test: there a missing tool is a broken setup, never a reason to skip.
package testtools

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// sbinDirs are searched when a program is not in PATH: Debian installs
// nginx in /usr/sbin, which is not in the PATH of ordinary users. A
// variable so that this package's tests can hide them.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin"}

// packages names the Debian package of a program when it differs.
var packages = map[string]string{"node": "nodejs"}

// Required reports whether a missing tool fails a test instead of skipping
// it: when CI is set (non-empty) or SIOGO_REQUIRE_TOOLS is 1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("SIOGO_REQUIRE_TOOLS") == "1"
}

// Look returns the path of the program name: from PATH, else from
// /usr/sbin or /usr/local/sbin. The error, when it is not found, is
// exec.LookPath's (errors.Is exec.ErrNotFound).
func Look(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range sbinDirs {
		if q := filepath.Join(dir, name); isExecutable(q) {
			return q, nil
		}
	}
	return "", err
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Require returns the path of the program name (see Look). When it is
// missing the test is skipped, or fails when Required, with a message
// naming it and how to install it.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := Look(name)
	if err != nil {
		pkg := name
		if d, ok := packages[name]; ok {
			pkg = d
		}
		missing(t, fmt.Sprintf("%s not found: %v (Debian/Ubuntu: apt-get install %s, or run `make deps`)", name, err, pkg))
	}
	return p
}

// NodeModules checks that every dependency listed in dir/package.json is
// installed in dir/node_modules.
func NodeModules(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	var absent []string
	for name := range pkg.Dependencies {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", name, "package.json")); err != nil {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		sort.Strings(absent)
		return fmt.Errorf("%w in %s: %q", ErrNodeModules, filepath.Join(dir, "node_modules"), absent)
	}
	return nil
}

// ErrNodeModules is returned by NodeModules when a package is not
// installed.
var ErrNodeModules = errors.New("npm packages not installed")

// RequireNodeModules skips the test, or fails it when Required, unless
// every npm package of dir/package.json (dir is the repository's testdata
// directory) is installed in dir/node_modules.
func RequireNodeModules(t testing.TB, dir string) {
	t.Helper()
	if err := NodeModules(dir); err != nil {
		missing(t, fmt.Sprintf("node_modules not found: %v (run `make deps-node`)", err))
	}
}

// missing ends the test: a failure when Required, else a skip.
func missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s; CI or SIOGO_REQUIRE_TOOLS=1 is set, so a missing tool is a failure", msg)
	}
	t.Skipf("%s; skipped (with CI or SIOGO_REQUIRE_TOOLS=1 set this fails)", msg)
}
