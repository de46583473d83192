package ecsjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/xferhunt/xferhunt/sources"
)

// ScanDocuments reads JSON that is not one object per line: concatenated
// (pretty-printed) objects, top-level arrays, {"events":[…]},
// Elasticsearch _search responses and Kibana es_archiver files. It
// streams: only one event document is in memory at a time, however large
// the array or hits list holding it. A syntax error counts one malformed
// document; reading resumes at the next line that starts with "{".
func ScanDocuments(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	em := &emitter{opt: Options{HostID: opt.HostID, HostName: opt.HostName, Emit: opt.Emit}}
	cr := &countingReader{r: r}
	in := &input{src: bufio.NewReaderSize(cr, 64<<10)}
	for {
		w := walker{dec: json.NewDecoder(in), em: em}
		err := w.all()
		if err == nil {
			break
		}
		if cr.err != nil {
			em.stats.Lines = cr.lines
			return em.stats, fmt.Errorf("read: %w", cr.err)
		}
		em.stats.Malformed++
		if !in.resync(w.dec.Buffered()) {
			break
		}
	}
	em.stats.Lines = cr.lines
	return em.stats, nil
}

// walker walks one json.Decoder's stream token by token down to the
// documents, so arrays and hit lists are never decoded whole.
type walker struct {
	dec *json.Decoder
	em  *emitter
}

// all reads top-level values until the end of the stream; nil at a clean
// end, the decoder's error otherwise.
func (w *walker) all() error {
	for {
		tok, err := w.dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['):
			err = w.array()
		case json.Delim('{'):
			err = w.object()
		default:
			// A bare scalar is no document; the decoder has consumed it.
			w.em.stats.Malformed++
		}
		if err != nil {
			return err
		}
	}
}

// array streams the elements of an array whose '[' was just read.
func (w *walker) array() error {
	for w.dec.More() {
		var v any
		if err := w.dec.Decode(&v); err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			w.em.stats.Malformed++
			continue
		}
		w.em.object(m, nil)
	}
	_, err := w.dec.Token() // ']'
	return err
}

// object reads a top-level object whose '{' was just read. Its "events"
// array and "hits.hits" list are streamed as they come; any other member
// is decoded. An object that streamed nothing is itself a document (or a
// single-document wrapper); one that did is a wrapper whose other members
// (took, _shards…) are dropped.
func (w *walker) object() error {
	m := map[string]any{}
	streamed := false
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return err
		}
		var v any
		switch key {
		case "events", "hits":
			var tok json.Token
			if tok, err = w.dec.Token(); err != nil {
				return err
			}
			switch {
			case key == "events" && tok == json.Delim('['):
				err = w.array()
				streamed = true
			case key == "hits" && tok == json.Delim('{'):
				var found bool
				if v, found, err = w.hits(); found {
					streamed = true
				}
			default:
				v, err = w.value(tok)
			}
		default:
			err = w.dec.Decode(&v)
		}
		if err != nil {
			return err
		}
		if v != nil {
			m[key] = v
		}
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return err
	}
	if !streamed {
		w.em.object(m, nil)
	}
	return nil
}

// hits walks the inside of a "hits" object, whose '{' was just read,
// streaming the documents of its "hits" list. found reports that list;
// without one the members are returned as the object they were.
func (w *walker) hits() (obj map[string]any, found bool, err error) {
	obj = map[string]any{}
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return nil, found, err
		}
		var v any
		if key == "hits" {
			tok, err := w.dec.Token()
			if err != nil {
				return nil, found, err
			}
			if tok == json.Delim('[') {
				if err := w.array(); err != nil {
					return nil, found, err
				}
				found = true
				continue
			}
			if v, err = w.value(tok); err != nil {
				return nil, found, err
			}
		} else if err := w.dec.Decode(&v); err != nil {
			return nil, found, err
		}
		obj[key] = v
	}
	_, err = w.dec.Token() // '}'
	return obj, found, err
}

// value finishes decoding a value whose first token was just read.
func (w *walker) value(tok json.Token) (any, error) {
	if d, ok := tok.(json.Delim); ok {
		return w.rest(d)
	}
	return tok, nil
}

func (w *walker) key() (string, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("object key %v is not a string", tok)
	}
	return k, nil
}

// rest decodes the remainder of a container whose opening delimiter d was
// just read by Token.
func (w *walker) rest(d json.Delim) (any, error) {
	if d == '[' {
		arr := []any{}
		for w.dec.More() {
			var v any
			if err := w.dec.Decode(&v); err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := w.dec.Token()
		return arr, err
	}
	obj := map[string]any{}
	for w.dec.More() {
		k, err := w.key()
		if err != nil {
			return nil, err
		}
		var v any
		if err := w.dec.Decode(&v); err != nil {
			return nil, err
		}
		obj[k] = v
	}
	_, err := w.dec.Token()
	return obj, err
}

// input is what the decoder reads: bytes handed back after a resync,
// then the file.
type input struct {
	pending []byte
	src     *bufio.Reader
}

func (in *input) Read(p []byte) (int, error) {
	if len(in.pending) > 0 {
		n := copy(p, in.pending)
		in.pending = in.pending[n:]
		return n, nil
	}
	return in.src.Read(p)
}

// resync drops the broken document the failed decoder stopped in (its
// unread bytes are in buffered) and positions the input at the start of
// the next line beginning with '{'. It reports false when there is none.
func (in *input) resync(buffered io.Reader) bool {
	rest, _ := io.ReadAll(buffered)
	rest = append(rest, in.pending...)
	in.pending = nil
	// Never resume on the line the error was in: skip to its end first.
	atLineStart := false
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest, atLineStart = rest[i+1:], true
	}
	for atLineStart && len(rest) > 0 {
		if rest[0] == '{' {
			in.pending = rest
			return true
		}
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			atLineStart = false
			break
		}
		rest = rest[j+1:]
	}
	// What was buffered is used up; the rest of the search is in the file.
	if !atLineStart && !in.skipLine() {
		return false
	}
	return in.lineStart()
}

// skipLine discards the file up to and including the next newline.
func (in *input) skipLine() bool {
	for {
		_, err := in.src.ReadSlice('\n')
		switch {
		case err == nil:
			return true
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return false
		}
	}
}

// lineStart moves the file to the next line that starts with '{', reading
// from the start of a line.
func (in *input) lineStart() bool {
	for {
		c, err := in.src.Peek(1)
		if err != nil {
			return false
		}
		if c[0] == '{' {
			return true
		}
		if !in.skipLine() {
			return false
		}
	}
}

// countingReader counts the lines of the file (each byte once, however
// often a resync re-reads it) and keeps a read error apart from syntax
// errors.
type countingReader struct {
	r     io.Reader
	lines uint64
	err   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += uint64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}
