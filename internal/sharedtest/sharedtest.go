// Package sharedtest locates the team's shared folder (the spec, rules,
// corpus and public samples) for tests. It sits beside the repository as
// ../shared, wherever the repository is checked out (CI clones it
// elsewhere); tests skip what they need from it when it is absent.
package sharedtest

import (
	"os"
	"path/filepath"
)

// Dir is the absolute path of the shared folder beside the module root,
// or of where it would be when it is absent.
var Dir = find()

func find() string {
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared")
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		if filepath.Dir(dir) == dir {
			return filepath.Join(filepath.Dir(wd), "shared")
		}
	}
}

// Path joins elem onto Dir.
func Path(elem ...string) string {
	return filepath.Join(append([]string{Dir}, elem...)...)
}
