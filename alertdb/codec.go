package alertdb

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/xferhunt/xferhunt/ecs"
)

// Alert documents are held compressed. As Go maps an alert costs several
// times its JSON; as JSON an alert of the seed rule is ~11.5 KB (the
// rule's investigation guide and metadata ride along); deflated against a
// dictionary of a real alert, a few hundred bytes (TestAlertSize pins
// it). That is what keeps 100k alerts well under the 200 MB budget.
// Columns the list draws are extracted once at arrival, so only
// drill-down, copy, export and filters decode.
//
// alertDict is the JSON of a real alert: the first one detect's alert
// builder raises with the built-in seed rule over the committed capture
// testdata/capture/raw.log, so it holds exactly the keys, rule metadata
// and audit record text every alert repeats. It is generated, not
// written: TestAlertDict fails when the builder's output has moved away
// from it. Changing it is safe because blobs never outlive the process.
//
//go:generate go test -run ^TestAlertDict$ -update .
//go:embed alertdict.json
var alertDict []byte

var writers = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(io.Discard, 4, alertDict) // level 4: size of 6, faster
	if err != nil {
		panic(err) // only on an invalid level, a programming error
	}
	return w
}}

// inflater is a pooled decompressor with the buffer its dictionary is
// assembled in (alertDict, then the row's index: see encodeDoc).
type inflater struct {
	r    io.ReadCloser
	dict []byte
}

var readers = sync.Pool{New: func() any {
	return &inflater{r: flate.NewReaderDict(bytes.NewReader(nil), alertDict), dict: slices.Clone(alertDict)}
}}

// encodeDoc returns d as deflated JSON. The dictionary is alertDict
// followed by flat, the row's index (flat.go): the index holds the row's
// own values (uuid, times, paths, the reason), so the JSON refers to them
// instead of holding them a second time. Go's flate writer takes a
// dictionary only when it is made (~700 KB of tables), so the index is
// written as data, flushed to a byte boundary, and what it compressed to
// is dropped: the blocks after the flush refer back into a window that
// inflate rebuilds from the same dictionary.
func encodeDoc(d ecs.Doc, flat string) ([]byte, error) {
	js, err := json.Marshal(map[string]any(d))
	if err != nil {
		return nil, fmt.Errorf("encoding alert: %w", err)
	}
	var buf bytes.Buffer
	w := writers.Get().(*flate.Writer)
	defer writers.Put(w)
	w.Reset(&buf)
	if flat != "" {
		if _, err := io.WriteString(w, flat); err != nil {
			return nil, fmt.Errorf("compressing alert: %w", err)
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("compressing alert: %w", err)
		}
		buf.Reset()
	}
	if _, err := w.Write(js); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// inflate returns the alert's JSON; flat is the index it was encoded with.
func inflate(blob []byte, flat string) ([]byte, error) {
	in := readers.Get().(*inflater)
	defer readers.Put(in)
	return in.into(nil, blob, flat)
}

// into is inflate into buf's memory: a pass that reads the JSON of row
// after row reuses one buffer (and one decompressor) instead of growing
// a new ~24 KB buffer per row, which kept the collector busy enough to
// empty the decompressor pool.
func (in *inflater) into(buf, blob []byte, flat string) ([]byte, error) {
	in.dict = append(in.dict[:len(alertDict)], flat...)
	if err := in.r.(flate.Resetter).Reset(bytes.NewReader(blob), in.dict); err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	b := bytes.NewBuffer(buf[:0])
	if _, err := b.ReadFrom(in.r); err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	return b.Bytes(), nil
}

// decodeDoc returns the alert document of blob, encoded with flat.
func decodeDoc(blob []byte, flat string) (ecs.Doc, error) {
	js, err := inflate(blob, flat)
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
