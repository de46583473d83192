package tui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/detect/kql"
)

// Values that differ between real alerts, found once in each capture
// alert's JSON: audit stamps (raw records, ancestor ids), ISO times,
// pids and ports.
var (
	auditStamp = regexp.MustCompile(`\d{10}\.\d{3}:\d+`)
	isoTime    = regexp.MustCompile(`20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	pidOrPort  = regexp.MustCompile(`"(pid|port)":\d+`)
)

// realAlertBatches makes n real alerts (~11 KB each: the capture's seed
// alerts, file.path as the new term) and hands them to fn in batches of
// 2000, decoded from JSON text as `xferhunt view` decodes a file: each
// copy k of a capture alert has its own uuid, file name, times, audit
// stamps, pids and source port, so what the store compresses varies as a
// real history does.
func realAlertBatches(tb testing.TB, n int, fn func([]detect.Alert)) {
	tb.Helper()
	c := loadCapture(tb)
	type base struct {
		text                     string
		uuid                     string
		stamps, times, pidsPorts []string
	}
	bases := make([]base, len(c.alerts))
	for i, a := range c.alerts {
		b, err := json.Marshal(map[string]any(a.Doc))
		if err != nil {
			tb.Fatal(err)
		}
		t := string(b)
		bases[i] = base{text: t, uuid: a.ID(), stamps: distinct(auditStamp.FindAllString(t, -1)),
			times: distinct(isoTime.FindAllString(t, -1)), pidsPorts: distinct(pidOrPort.FindAllString(t, -1))}
	}
	batch := make([]detect.Alert, 0, 2000)
	for k := 0; k*len(bases) < n; k++ {
		shift := int64(k) * 37 // seconds between copies
		for i, bs := range bases {
			if k*len(bases)+i == n {
				break
			}
			sum := sha256.Sum256([]byte(fmt.Sprintf("%d/%d", k, i)))
			pairs := []string{bs.uuid, hex.EncodeToString(sum[:]),
				"dropped-", fmt.Sprintf("dropped-%d-", k), "/tmp/evil", fmt.Sprintf("/tmp/evil-%d", k)}
			for _, st := range bs.stamps {
				sec, _ := strconv.ParseInt(st[:10], 10, 64)
				ser, _ := strconv.ParseInt(st[15:], 10, 64)
				pairs = append(pairs, st, fmt.Sprintf("%d%s:%d", sec+shift, st[10:14], ser+int64(k)*800))
			}
			for _, ts := range bs.times {
				if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
					pairs = append(pairs, ts, t.Add(time.Duration(shift)*time.Second).UTC().Format("2006-01-02T15:04:05.000Z"))
				}
			}
			for _, pp := range bs.pidsPorts {
				j := strings.LastIndexByte(pp, ':')
				v, _ := strconv.Atoi(pp[j+1:])
				pairs = append(pairs, pp, pp[:j+1]+strconv.Itoa(1+(v+k*13)%65000))
			}
			var d map[string]any
			if err := json.Unmarshal([]byte(strings.NewReplacer(pairs...).Replace(bs.text)), &d); err != nil {
				tb.Fatal(err)
			}
			batch = append(batch, detect.Alert{Doc: d})
			if len(batch) == cap(batch) {
				fn(batch)
				batch = make([]detect.Alert, 0, 2000)
			}
		}
	}
	if len(batch) > 0 {
		fn(batch)
	}
}

func distinct(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

var (
	realOnce   sync.Once
	realModel  Model
	realRSS    float64
	realHeap   float64
	realPerRow float64
)

// loadedReal is a 160×48 model holding 100k real alerts, built once per
// test binary; the memory it took is measured after a full collection.
func loadedReal(b *testing.B) Model {
	realOnce.Do(func() {
		debug.FreeOSMemory()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		m := New(Options{Backend: newMemBackend(), Location: time.UTC})
		m, _ = step(b, m, tea.WindowSizeMsg{Width: 160, Height: 48})
		realAlertBatches(b, 100_000, func(as []detect.Alert) {
			m, _ = step(b, m, AlertsMsg{Alerts: as})
		})
		if m.st.Len() != 100_000 {
			b.Fatalf("model holds %d alerts", m.st.Len())
		}
		debug.FreeOSMemory()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		realModel = m
		realRSS = rssMB(b)
		realHeap = float64(after.HeapInuse) / (1 << 20)
		realPerRow = float64(after.HeapInuse-min(after.HeapInuse, before.HeapInuse)) / 100_000
	})
	return realModel
}

// BenchmarkRealAlerts100k measures the TUI holding 100k real alerts: the
// process RSS and heap once they are held (MB-RSS, MB-heap, B/alert) and
// a key press to frame. BenchmarkFilter100kReal times the filters.
func BenchmarkRealAlerts100k(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		m := loadedReal(b)
		for b.Loop() {
			_ = m.View()
		}
		b.ReportMetric(realRSS, "MB-RSS")
		b.ReportMetric(realHeap, "MB-heap")
		b.ReportMetric(realPerRow, "B/alert")
	})
	b.Run("key", func(b *testing.B) { benchUpDown(b, loadedReal(b)) })
}

// BenchmarkFilter100kReal is one filter pass (index or decode, predicate
// on every core, sort) over 100k real alerts per kind of filter the scale
// issue names. cpu-ms/op is the process's CPU time per pass: on a shared
// machine it moves less than the wall time.
func BenchmarkFilter100kReal(b *testing.B) {
	for _, tc := range []struct{ name, q string }{
		{"freetext", "sftp-server"},
		{"phrase", `"Lateral Movement"`},
		{"freetext-and-not", "xfvictim and not scp"},
		{"dotted", "process.entry_leader.entry_meta.source.ip : 127.0.0.5"},
		{"nested", "process.entry_leader.entry_meta : { source.ip : 127.0.0.5 and type : ssh }"},
		{"exists-object", "process.parent:*"},
		{"negation", "not user.name : xfvictim and not process.name : scp"},
		{"range", "process.pid > 2130 and source.port < 50000"},
		{"wildcard", "file.path : *dropped-1*"},
		{"wildcard-freetext", "*pwned*"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := loadedReal(b)
			rows := m.st.Snapshot()
			q := kql.MustParse(tc.q)
			b.ReportAllocs()
			c0, n := cpuTime(), 0
			for b.Loop() {
				if vis := alertdb.Filter(rows, tc.q, q, alertdb.SortTime); len(vis) == 0 {
					b.Fatalf("filter %q kept nothing", tc.q)
				}
				n++
			}
			b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(n), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time this process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
