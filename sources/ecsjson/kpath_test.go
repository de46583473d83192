package ecsjson

import (
	"strings"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/sources"
)

func TestKPath(t *testing.T) {
	for _, in := range []string{strings.Repeat("{\n", 100000), strings.Repeat("{\"a\":\n", 100000), strings.Repeat("[", 100000), strings.Repeat("{\"a\":[", 50000), strings.Repeat("}\n", 100000), strings.Repeat("\n{", 100000)} {
		s := time.Now()
		st, err := ScanDocuments(strings.NewReader(in), sources.ScanOptions{})
		t.Logf("%.10q %v %+v %v", in, time.Since(s), st, err)
	}
}
