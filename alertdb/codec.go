package alertdb

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	kflate "github.com/klauspost/compress/flate"

	"github.com/xferhunt/xferhunt/ecs"
)

// Alert documents are held compressed. As Go maps an alert costs several
// times its JSON; as JSON an alert of the seed rule is ~24 KB (the rule's
// investigation guide and metadata ride along). A row holds its JSON as a
// delta against its template's JSON (delta.go), deflated against the
// template values the delta replaced and the row's own index: ~300 bytes
// for a real alert (TestAlertSize pins it). Columns the list draws are
// extracted once at arrival, so only drill-down, copy, export and filters
// decode.

var writers = sync.Pool{New: func() any {
	w, err := flate.NewWriter(io.Discard, 4) // level 4: size of 6, faster
	if err != nil {
		panic(err) // only on an invalid level, a programming error
	}
	return w
}}

// json is the template's JSON and its structure, nil without a template.
func (t *template) json() ([]byte, *jnode) {
	if t == nil {
		return nil, nil
	}
	return t.js, t.root
}

// inflater is a pooled decompressor with the buffers a row's JSON is
// rebuilt in: its dictionary (see encodeDoc) and the inflated delta.
type inflater struct {
	r     io.ReadCloser
	src   strings.Reader
	dict  []byte
	delta []byte
}

// Deltas are written with compress/flate and read with
// klauspost/compress's inflater (the same format, already the gzip
// input's dependency): a wildcard filter inflates every row's delta, and
// it does so with 7-11% less CPU per row (BenchmarkLeafwiseCapture).
var readers = sync.Pool{New: func() any {
	return &inflater{r: kflate.NewReader(strings.NewReader(""))}
}}

// marshalDoc is the alert's JSON, as a row holds it.
func marshalDoc(d ecs.Doc) ([]byte, error) {
	js, err := json.Marshal(map[string]any(d))
	if err != nil {
		return nil, fmt.Errorf("encoding alert: %w", err)
	}
	return js, nil
}

// encodeDoc returns js, an alert's JSON, as a row holds it: its delta
// against t's JSON (delta.go), deflated, after the list of template
// values the delta's literals replaced. Deflate's dictionary is those
// values (an audit record is most like the template's record) followed by
// flat, the row's index (flat.go), which holds the row's own values (uuid,
// times, paths, the reason), so the delta refers to them instead of
// holding them a second time. Go's flate writer takes a dictionary only
// when it is made (~700 KB of tables), so the dictionary is written as
// data, flushed to a byte boundary, and what it compressed to is dropped:
// the blocks after the flush refer back into a window that inflate
// rebuilds from the same dictionary.
func encodeDoc(js []byte, flat string, t *template) ([]byte, error) {
	tj, root := t.json()
	delta, like := makeDelta(nil, js, tj, root)
	var buf bytes.Buffer
	w := writers.Get().(*flate.Writer)
	defer writers.Put(w)
	w.Reset(&buf)
	for _, s := range like {
		if _, err := w.Write(tj[s.start:s.end]); err != nil {
			return nil, fmt.Errorf("compressing alert: %w", err)
		}
	}
	if _, err := io.WriteString(w, flat); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	if len(like) > 0 || flat != "" {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("compressing alert: %w", err)
		}
	}
	buf.Reset()
	buf.Write(appendSpans(nil, like))
	if _, err := w.Write(delta); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	return buf.Bytes(), nil
}

// inflate returns the JSON of r.
func inflate(r *Row) ([]byte, error) {
	in := readers.Get().(*inflater)
	defer readers.Put(in)
	return in.into(nil, r)
}

// into is inflate into buf's memory: a pass that reads the JSON of row
// after row reuses one buffer (and one decompressor) instead of growing
// a new ~24 KB buffer per row, which kept the collector busy enough to
// empty the decompressor pool.
func (in *inflater) into(buf []byte, r *Row) ([]byte, error) {
	delta, err := in.deltaOf(r)
	if err != nil {
		return nil, err
	}
	tj, _ := r.tmpl.json()
	js, err := applyDelta(buf[:0], delta, tj)
	if err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	return js, nil
}

// deltaOf inflates r's delta (delta.go) into in's buffer, valid until the
// next call.
func (in *inflater) deltaOf(r *Row) ([]byte, error) {
	tj, _ := r.tmpl.json()
	dict, z, err := appendLike(in.dict[:0], r.blob, tj)
	if err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	in.dict = append(dict, r.flat...)
	in.src.Reset(z)
	if err := in.r.(kflate.Resetter).Reset(&in.src, in.dict); err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	d := bytes.NewBuffer(in.delta[:0])
	if _, err := d.ReadFrom(in.r); err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	in.delta = d.Bytes()
	return in.delta, nil
}

// decodeDoc returns the alert document of r.
func decodeDoc(r *Row) (ecs.Doc, error) {
	js, err := inflate(r)
	if err != nil {
		return nil, err
	}
	d, err := decodeObject(js)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// parallelMatch runs fn over rows on every core, for the whole-history
// passes (filter, exception preview). With a plan, fn gets a document
// holding only the fields the plan reads, built from the row index, and
// valid only during the call; rows the index cannot answer, and every row
// without a plan, are decoded.
func parallelMatch(rows []*Row, pl *plan, fn func(i int, d ecs.Doc)) {
	workers := max(1, runtime.GOMAXPROCS(0))
	chunk := (len(rows) + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < len(rows); start += chunk {
		end := min(len(rows), start+chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := newReader(pl)
			defer rd.release()
			for i := start; i < end; i++ {
				if d, ok := rd.doc(rows[i]); ok {
					fn(i, d)
					rd.done()
					continue
				}
				fn(i, rows[i].doc())
			}
		}()
	}
	wg.Wait()
}
