package kql

import "github.com/xferhunt/xferhunt/ecs"

// Fields resolve through ecs's walk (ecs/walk.go): the same resolution as
// ecs.Doc.Values, allocation-free and stopping at the first value that
// passes, because Match runs once per event.

// tester tests one scalar (ecs.ValueTester). Strings come through Str so
// that []string elements need no boxing.
type tester = ecs.ValueTester
