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
// the array or hits list holding it. A syntax error, or a document over
// MaxDocument bytes, counts one malformed document; reading resumes at the
// next line that starts with "{".
func ScanDocuments(r io.Reader, opt sources.ScanOptions) (sources.Stats, error) {
	em := &emitter{opt: Options{HostID: opt.HostID, HostName: opt.HostName, Emit: opt.Emit}}
	cr := &countingReader{r: r}
	in := &input{src: bufio.NewReaderSize(cr, 64<<10), limit: MaxDocument, budget: MaxDocument}
	if head, err := in.src.Peek(len(bom)); err == nil && bytes.Equal(head, bom) {
		_, _ = in.src.Discard(len(bom))
	}
	for {
		w := walker{dec: json.NewDecoder(in), em: em, in: in}
		err := w.all()
		if err == nil {
			break
		}
		if cr.err != nil {
			em.stats.Lines = cr.lines
			return em.stats, fmt.Errorf("read: %w", cr.err)
		}
		em.stats.Malformed++
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // the input ends inside a document
		}
		unread, _ := io.ReadAll(w.dec.Buffered())
		if !in.resync(unread) {
			break
		}
		in.budget = in.limit
	}
	em.stats.Lines = cr.lines
	return em.stats, nil
}

// MaxDocument caps one document (a top-level value, or one element of a
// streamed array or hits list): the decoder holds a whole value in memory,
// so one 10 GiB string must not reach it. Real event documents are a few
// KiB; Elastic Defend's largest are well under a MiB.
const MaxDocument = 4 << 20

// errDocumentTooLarge stops the decoder inside a document over MaxDocument.
var errDocumentTooLarge = errors.New("document larger than the limit")

// walker walks one json.Decoder's stream token by token down to the
// documents, so arrays and hit lists are never decoded whole.
type walker struct {
	dec *json.Decoder
	em  *emitter
	in  *input // its budget restarts at every document
}

// all reads top-level values until the end of the stream; nil at a clean
// end, the decoder's error otherwise.
func (w *walker) all() error {
	for {
		w.in.budget = w.in.limit // a top-level value starts
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
		w.in.budget = w.in.limit // an element (a document) starts
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
// array, "hits.hits" list and _msearch "responses" are streamed as they
// come; any other member is decoded. An object that streamed nothing is
// itself a document (or a single-document wrapper); one that did is a
// wrapper whose other members (took, _shards…) are dropped.
func (w *walker) object() error {
	m := map[string]any{}
	streamed := false
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return err
		}
		var v any
		here := false // this member was streamed
		switch key {
		case "events", "responses", "hits":
			var tok json.Token
			if tok, err = w.dec.Token(); err != nil {
				return err
			}
			switch {
			case key != "hits" && tok == json.Delim('['):
				err, here = w.array(), true
			case key == "hits" && tok == json.Delim('{'):
				v, here, err = w.hits()
			default:
				v, err = w.value(tok)
			}
		default:
			err = w.dec.Decode(&v)
		}
		if err != nil {
			return err
		}
		if here {
			streamed = true
		} else {
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

// input is what the decoder reads: byte runs handed back by resyncs, in
// order, then the file. Runs are kept apart rather than joined so a
// resync never copies what it has not read.
type input struct {
	runs [][]byte
	src  *bufio.Reader
	// budget is what the decoder may still read before the document it is
	// in counts as too large; the walker sets it to limit at every
	// document's start. What the decoder read ahead is not charged again,
	// so it holds at most about twice the limit.
	budget, limit int
}

func (in *input) Read(p []byte) (int, error) {
	if in.limit > 0 {
		if in.budget <= 0 {
			return 0, errDocumentTooLarge
		}
		p = p[:min(len(p), in.budget)]
	}
	n, err := in.read(p)
	in.budget -= n
	return n, err
}

func (in *input) read(p []byte) (int, error) {
	for len(in.runs) > 0 {
		if len(in.runs[0]) == 0 {
			in.runs = in.runs[1:]
			continue
		}
		n := copy(p, in.runs[0])
		in.runs[0] = in.runs[0][n:]
		return n, nil
	}
	return in.src.Read(p)
}

// resync positions the input at the next line that starts with '{' after
// a syntax error. unread is what the failed decoder held, from the start
// of the value it could not decode. The search starts at the line of the
// error itself, so each byte is scanned a bounded number of times however
// many errors there are; it reports false when no document follows.
func (in *input) resync(unread []byte) bool {
	from, lineStart := resumeFrom(unread)
	in.runs = append([][]byte{unread[from:]}, in.runs...)
	if !lineStart && !in.nextLine() {
		return false
	}
	for {
		c, ok := in.peek()
		if !ok {
			return false
		}
		if c == '{' {
			return true
		}
		if !in.nextLine() {
			return false
		}
	}
}

// resumeFrom finds where in unread the search for the next document
// starts. It scans the broken value again on its own to learn where the
// error is: the line holding it may start the next document (a cut-off
// NDJSON line runs into the next one). lineStart is false when the error
// is on the value's first line, which is then skipped.
func resumeFrom(unread []byte) (from int, lineStart bool) {
	d := json.NewDecoder(bytes.NewReader(unread))
	var raw json.RawMessage
	err := d.Decode(&raw)
	p := 0
	var se *json.SyntaxError
	switch {
	case err == nil:
		// Whole on its own: the error was in what surrounds it (a missing
		// comma between array elements).
		p = int(d.InputOffset())
	case errors.As(err, &se) && se.Offset > 0:
		p = int(se.Offset) - 1 // Offset counts the offending byte
	}
	p = min(p, len(unread))
	if ls := bytes.LastIndexByte(unread[:p], '\n') + 1; ls > 0 {
		return ls, true
	}
	return 0, false
}

// peek returns the next byte of the input without consuming it.
func (in *input) peek() (byte, bool) {
	for len(in.runs) > 0 {
		if len(in.runs[0]) > 0 {
			return in.runs[0][0], true
		}
		in.runs = in.runs[1:]
	}
	c, err := in.src.Peek(1)
	if err != nil {
		return 0, false
	}
	return c[0], true
}

// nextLine consumes the input up to and including the next newline.
func (in *input) nextLine() bool {
	for len(in.runs) > 0 {
		if i := bytes.IndexByte(in.runs[0], '\n'); i >= 0 {
			in.runs[0] = in.runs[0][i+1:]
			return true
		}
		in.runs = in.runs[1:]
	}
	return in.skipLine()
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
