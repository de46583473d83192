package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xferhunt/xferhunt/sources"
)

// panicking is a source whose Run panics: no real source does so on
// purpose, and this is the path a bug in one takes.
type panicking struct{}

func (panicking) Name() string { return "panicking" }
func (panicking) Run(context.Context, func([]sources.Event)) error {
	var m map[string]int
	m["x"]++ //lint:ignore SA5000 the panic is what the test needs
	return nil
}
func (panicking) Health() sources.Health { return sources.Health{} }

// TestSourcePanicIsInternal: a source's panic is recovered (so the kernel
// restore and the state flush still run) and marked ErrInternal, which the
// command maps to exit 3, not to a runtime failure or bad input.
func TestSourcePanicIsInternal(t *testing.T) {
	err := runSource(context.Background(), panicking{}, nil)
	if !errors.Is(err, ErrInternal) || errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "source panicking: internal error (a bug): panic: assignment to entry in nil map") {
		t.Fatalf("err %v", err)
	}
}
