package alertdb

import (
	"github.com/xferhunt/xferhunt/detect"
)

// buildRows turns alerts into rows, as the Feeder does.
func buildRows(alerts []detect.Alert) []*Row {
	out := make([]*Row, len(alerts))
	for i, a := range alerts {
		out[i] = NewRow(a)
	}
	return out
}
