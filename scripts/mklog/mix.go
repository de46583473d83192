package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// group is a run of consecutive lines of one source that share one audit stamp (a line
// without a stamp stays with the run before it).
type group struct {
	lines  [][]byte
	stamps []stamp
	key    stampKey // the original stamp, so that an event split by another keeps one new stamp
	pos    float64  // where in a round the group falls: its rank in its source, scaled to [0,1)
	src    int
}

type stampKey struct{ sec, milli, serial int64 }

// mixSources lists the capture and the auditd text logs under dir's auditd-raw and
// auditd-enriched folders (YAML fixtures wrap their records and are left out), sorted
// so that the output is the same on every run.
func mixSources(capture, dir string) ([]string, error) {
	srcs := []string{capture}
	for _, sub := range []string{"auditd-raw", "auditd-enriched"} {
		root := filepath.Join(dir, sub)
		var found []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && (strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".txt")) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(found)
		srcs = append(srcs, found...)
	}
	if len(srcs) == 1 {
		return nil, fmt.Errorf("%s: no auditd logs under auditd-raw or auditd-enriched", dir)
	}
	return srcs, nil
}

// splitGroups reads one source into its groups.
func splitGroups(path string, src int) ([]group, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var gs []group
	n := 0
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if l[len(l)-1] != '\n' {
			l = append(l[:len(l):len(l)], '\n')
		}
		st := parse(l)
		k := stampKey{st.sec, st.milli, st.serial}
		if len(gs) == 0 || (st.hasStamp && gs[len(gs)-1].key != k) {
			gs = append(gs, group{key: k, src: src})
		}
		g := &gs[len(gs)-1]
		g.lines = append(g.lines, l)
		g.stamps = append(g.stamps, st)
		n++
	}
	for i := range gs {
		gs[i].pos = (float64(i) + 0.5) / float64(len(gs))
	}
	return gs, n, nil
}

// buildMixed writes the noisy log: rounds of every source interleaved evenly (each
// source's groups spread over the round in their own order), at least want lines, the
// whole spanning span from the capture's first second, serials counting up from 1.
func buildMixed(capture, dir, outPath string, want int, span time.Duration) (int, error) {
	srcs, err := mixSources(capture, dir)
	if err != nil {
		return 0, err
	}
	var round []group
	perRound := 0
	for i, p := range srcs {
		gs, n, err := splitGroups(p, i)
		if err != nil {
			return 0, err
		}
		round = append(round, gs...)
		perRound += n
	}
	if perRound == 0 {
		return 0, fmt.Errorf("no lines in %d sources", len(srcs))
	}
	slices.SortStableFunc(round, func(a, b group) int {
		if a.pos < b.pos {
			return -1
		}
		if a.pos > b.pos {
			return 1
		}
		return a.src - b.src
	})
	start := int64(1 << 62)
	for _, g := range round {
		if g.src == 0 && g.key.sec > 0 {
			start = min(start, g.key.sec)
		}
	}
	if start == 1<<62 {
		return 0, fmt.Errorf("%s: no audit records", capture)
	}
	rounds := (want + perRound - 1) / perRound
	total := int64(rounds * len(round))
	spanMs := span.Milliseconds()
	f, err := os.Create(outPath)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	written := 0
	serial := int64(0)
	idx := int64(0)
	type newStamp struct{ ms, serial int64 }
	type srcStamp struct {
		src int
		k   stampKey
	}
	for r := 0; r < rounds; r++ {
		// a stamp maps to one new stamp per source per round
		seen := make(map[srcStamp]newStamp)
		for _, g := range round {
			ms := start*1000 + idx*spanMs/total
			idx++
			for i, l := range g.lines {
				st := g.stamps[i]
				if !st.hasStamp {
					w.Write(l)
					written++
					continue
				}
				k := srcStamp{g.src, stampKey{st.sec, st.milli, st.serial}}
				ns, ok := seen[k]
				if !ok {
					serial++
					ns = newStamp{ms, serial}
					seen[k] = ns
				}
				w.Write(l[:st.start])
				fmt.Fprintf(w, "%d.%03d:%d", ns.ms/1000, ns.ms%1000, ns.serial)
				w.Write(l[st.end:])
				written++
			}
		}
	}
	return written, finish(w, f)
}
