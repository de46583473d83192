// Command mkecs writes a large ECS / Auditbeat NDJSON file for JSON input
// benchmarks (issue 12): the ECS documents xferhunt builds from the
// committed capture (file events and, with their story, execs, logins and
// connections) interleaved with every Auditbeat and Elastic Defend
// document of the samples directory, as they are (Auditbeat's go through
// its mapping in scan), round after round until -size bytes. Every copy
// gets its own @timestamp (the file spans -span in time order), event.id
// and, for file events, file path, so new_terms sees a realistic mix of
// repeated and new tuples.
//
//	go run ./scripts/mkecs -samples ../shared/samples -size 1G -o /tmp/ecs.ndjson
//
// The output is never committed; scripts/bench-json.sh builds it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/auditd"
)

func main() {
	out := flag.String("o", "", "output file (required, created new)")
	capture := flag.String("i", "testdata/capture/raw.log", "auditd capture whose ECS documents are repeated")
	samples := flag.String("samples", "../shared/samples", "samples directory (its auditbeat-ecs and elastic-defend-ecs JSON); \"\" for none")
	size := flag.String("size", "1G", "bytes to write at least (suffix K, M or G)")
	span := flag.Duration("span", 9*24*time.Hour, "event time the file spans")
	flag.Parse()
	limit, err := parseSize(*size)
	if *out == "" || err != nil {
		fmt.Fprintln(os.Stderr, "mkecs: -o is required and -size must be a size like 1G", err)
		os.Exit(2)
	}
	docs, err := load(*capture, *samples)
	if err == nil {
		var n, bytes int64
		n, bytes, err = write(*out, docs, limit, *span)
		fmt.Printf("%s: %d documents, %d bytes (%d distinct shapes)\n", *out, n, bytes, len(docs))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkecs:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mul, nil
}

// load returns the template documents: the capture's events as ECS, then
// the samples' documents.
func load(capture, samples string) ([]map[string]any, error) {
	var docs []map[string]any
	f, err := os.Open(capture)
	if err != nil {
		return nil, err
	}
	_, err = auditd.ScanRecorded(f, sources.ScanOptions{HostID: "bench-host", HostName: "bench", Story: true, Workers: 1,
		Emit: func(ev sources.Event) {
			// Round-trip through JSON so the template holds only JSON's
			// shapes, like every other document.
			b, err := ecs.AppendJSON(nil, ev.Doc)
			if err != nil {
				return
			}
			var m map[string]any
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			if d.Decode(&m) == nil {
				// Shaped as Elastic Defend ships them: event.module
				// "auditd" would have scan take them for Auditbeat's.
				ecs.Doc(m).Set("event.module", "endpoint")
				ecs.Doc(m).Set("event.dataset", "endpoint.events."+ecs.Doc(m).Str("event.category"))
				docs = append(docs, m)
			}
		}})
	f.Close()
	if err != nil {
		return nil, err
	}
	if samples == "" {
		return docs, nil
	}
	for _, sub := range []string{"auditbeat-ecs", "elastic-defend-ecs", "filebeat-auditd-integration-ecs"} {
		err := filepath.WalkDir(filepath.Join(samples, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			for {
				var v any
				if err := dec.Decode(&v); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return fmt.Errorf("%s: %w", p, err)
				}
				docs = append(docs, documents(v)...)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// documents unwraps the export shapes of the samples ({"events":[…]},
// {"expected":[…]}, arrays, es_archiver records) down to event documents.
func documents(v any) []map[string]any {
	switch x := v.(type) {
	case []any:
		var out []map[string]any
		for _, e := range x {
			out = append(out, documents(e)...)
		}
		return out
	case map[string]any:
		for _, k := range []string{"events", "expected"} {
			if arr, ok := x[k].([]any); ok && len(x) == 1 {
				return documents(arr)
			}
		}
		if val, ok := x["value"].(map[string]any); ok && x["type"] == "doc" {
			if src, ok := val["source"].(map[string]any); ok {
				return []map[string]any{src}
			}
			return nil
		}
		return []map[string]any{x}
	}
	return nil
}

// write repeats docs round after round until limit bytes, each copy
// restamped and renamed.
func write(path string, docs []map[string]any, limit int64, span time.Duration) (n, written int64, err error) {
	if len(docs) == 0 {
		return 0, 0, errors.New("no documents to repeat")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// An estimate of the documents the file holds spreads them over span.
	var avg int64
	for _, d := range docs {
		b, _ := ecs.AppendJSON(nil, d)
		avg += int64(len(b)) + 1
	}
	avg /= int64(len(docs))
	step := span / time.Duration(max(1, limit/avg))
	var line []byte
	for written < limit {
		d := docs[n%int64(len(docs))]
		round := n / int64(len(docs))
		c := ecs.Doc(d).Clone()
		ts := start.Add(time.Duration(n) * step).Format("2006-01-02T15:04:05.000Z")
		c["@timestamp"] = ts
		if c.Get("event.ingested") != nil {
			c.Set("event.ingested", ts)
		}
		if c.Get("event.id") != nil {
			c.Set("event.id", fmt.Sprintf("ev-%d", n))
		}
		// Every 50th round a file event names a new path: a new term.
		if p := c.Str("file.path"); p != "" && round%50 == 0 {
			c.Set("file.path", fmt.Sprintf("%s.%d", p, round))
		}
		line, err = ecs.AppendJSON(line[:0], map[string]any(c))
		if err != nil {
			f.Close()
			return n, written, err
		}
		line = append(line, '\n')
		if _, err = w.Write(line); err != nil {
			f.Close()
			return n, written, err
		}
		written += int64(len(line))
		n++
	}
	if err = w.Flush(); err != nil {
		f.Close()
		return n, written, err
	}
	return n, written, f.Close()
}
