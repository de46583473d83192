package alertdb

import (
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/internal/sharedtest/alerts"
)

// The alerts of the tests are internal/sharedtest/alerts', the same as
// the TUI's; these short names keep the tests readable.
type spec = alerts.Spec

var (
	base  = alerts.Base
	table = alerts.Table
)

func mkAlert(s spec) detect.Alert { return alerts.Make(s) }

func tableAlerts() []detect.Alert { return alerts.TableAlerts() }

func manyAlerts(n int) []detect.Alert { return alerts.Many(n) }

// buildRows turns alerts into rows, as the Feeder does.
func buildRows(alerts []detect.Alert) []*Row {
	out := make([]*Row, len(alerts))
	for i, a := range alerts {
		out[i] = NewRow(a)
	}
	return out
}
