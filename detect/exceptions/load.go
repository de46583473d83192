package exceptions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xferhunt/xferhunt/ecs"
	"github.com/xferhunt/xferhunt/internal/limitfile"
)

// Load reads a Kibana exception-list export: NDJSON with the list
// object(s), their items and a closing export summary, which is accepted
// and ignored. Blank lines are skipped. A malformed line fails the whole
// load with "line N: …": exceptions hide events, so a half-read file is
// worse than none. Items Kibana would also skip offline (value lists) are
// kept, marked Unsupported, and reported in Warnings.
func Load(r io.Reader) (*List, error) {
	l := &List{}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := l.parseLine(line, n); perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	l.warnOrphans()
	return l, nil
}

// MaxFileSize caps an exception-list file: a Kibana export of thousands
// of items is a few MiB, and a mistaken --exceptions /dev/zero must fail
// at once rather than read until memory runs out.
const MaxFileSize = 64 << 20

// LoadFile reads an export file of at most MaxFileSize bytes; errors name
// the file.
func LoadFile(path string) (*List, error) {
	data, err := limitfile.Read(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("exceptions %s: %w", path, err)
	}
	l, err := Load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("exceptions %s: %w", path, err)
	}
	return l, nil
}

func (l *List) parseLine(line []byte, n int) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber() // keep numbers in unknown fields exactly as written
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	if obj == nil {
		return errors.New("want a JSON object")
	}
	switch {
	case has(obj, "entries"):
		it, err := parseItem(obj)
		if err != nil {
			return err
		}
		if it.Unsupported != "" {
			l.Warnings = append(l.Warnings, fmt.Sprintf("line %d: item %q skipped: %s", n, it.ID, it.Unsupported))
		}
		l.Items = append(l.Items, it)
	case isSummary(obj):
		// The export summary counts what the file holds; nothing to keep.
	case has(obj, "rule_id"):
		// Rule exports carry their exception lists inline; the rule itself
		// is loaded with --rule.
		l.Warnings = append(l.Warnings, fmt.Sprintf("line %d: a detection rule, not an exception; ignored", n))
	case has(obj, "list_id"):
		li, err := parseListInfo(obj)
		if err != nil {
			return err
		}
		l.Lists = append(l.Lists, li)
	default:
		return errors.New("neither an exception list, an exception item nor an export summary")
	}
	return nil
}

func has(obj map[string]any, key string) bool {
	_, ok := obj[key]
	return ok
}

// isSummary recognises the export details line Kibana appends
// ({"exported_exception_list_count":1, …}).
func isSummary(obj map[string]any) bool {
	for k := range obj {
		if strings.HasPrefix(k, "exported_") {
			return true
		}
	}
	return false
}

// warnOrphans notes items whose list is not in the file; they still apply.
func (l *List) warnOrphans() {
	if len(l.Lists) == 0 {
		return
	}
	known := map[string]bool{}
	for _, li := range l.Lists {
		known[li.ListID] = true
	}
	for _, it := range l.Items {
		if !known[it.ListID] {
			l.Warnings = append(l.Warnings, fmt.Sprintf("item %q belongs to list %q, which is not in the file", it.ID, it.ListID))
			known[it.ListID] = true
		}
	}
}

func parseListInfo(obj map[string]any) (ListInfo, error) {
	li := ListInfo{raw: obj}
	var err error
	if li.ListID, err = str(obj, "list_id", true); err != nil {
		return li, fmt.Errorf("exception list: %w", err)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &li.Name}, {"description", &li.Description}, {"type", &li.Type}, {"namespace_type", &li.NamespaceType}} {
		if *f.dst, err = str(obj, f.key, false); err != nil {
			return li, fmt.Errorf("exception list %q: %w", li.ListID, err)
		}
	}
	return li, nil
}

func parseItem(obj map[string]any) (Item, error) {
	it := Item{raw: obj}
	var err error
	if it.ID, err = str(obj, "item_id", true); err != nil {
		return it, fmt.Errorf("exception item: %w", err)
	}
	wrap := func(err error) error { return fmt.Errorf("item %q: %w", it.ID, err) }
	if it.ListID, err = str(obj, "list_id", true); err != nil {
		return it, wrap(err)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"name", &it.Name}, {"description", &it.Description}, {"namespace_type", &it.NamespaceType}} {
		if *f.dst, err = str(obj, f.key, false); err != nil {
			return it, wrap(err)
		}
	}
	if exp, _ := obj["expire_time"].(string); exp != "" {
		if it.Expire, err = time.Parse(time.RFC3339Nano, exp); err != nil {
			return it, wrap(fmt.Errorf("expire_time %q: want an ISO-8601 time such as 2026-01-31T00:00:00.000Z", exp))
		}
	} else if v := obj["expire_time"]; v != nil && v != "" {
		return it, wrap(fmt.Errorf("expire_time: want a string, got %T", v))
	}
	if it.OSTypes, err = strs(obj["os_types"], "os_types", false); err != nil {
		return it, wrap(err)
	}
	raw, ok := obj["entries"].([]any)
	if !ok || len(raw) == 0 {
		return it, wrap(errors.New("entries: want a non-empty array"))
	}
	for i, re := range raw {
		e, err := parseEntry(re, false)
		if err != nil {
			return it, wrap(fmt.Errorf("entry %d: %w", i+1, err))
		}
		if e.Type == TypeList {
			it.Unsupported = fmt.Sprintf("value list %q (%s) on %s is not available offline", e.List.ID, e.List.Type, e.Field)
		}
		it.Entries = append(it.Entries, e)
	}
	return it, nil
}

func parseEntry(v any, inNested bool) (Entry, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Entry{}, fmt.Errorf("want an object, got %T", v)
	}
	var e Entry
	var err error
	if e.Type, err = str(obj, "type", true); err != nil {
		return e, err
	}
	if e.Field, err = str(obj, "field", true); err != nil {
		return e, fmt.Errorf("%s: %w", e.Type, err)
	}
	bad := func(err error) error { return fmt.Errorf("%s on %s: %w", e.Type, e.Field, err) }
	if inNested {
		switch e.Type {
		case TypeMatch, TypeMatchAny, TypeExists:
		default:
			return e, bad(errors.New("a nested entry may only hold match, match_any and exists entries"))
		}
	}
	if e.Type != TypeNested {
		if e.Operator, err = str(obj, "operator", true); err != nil {
			return e, bad(err)
		}
		if e.Operator != OperatorIncluded && e.Operator != OperatorExcluded {
			return e, bad(fmt.Errorf("operator %q: want included or excluded", e.Operator))
		}
	}
	switch e.Type {
	case TypeMatch, TypeWildcard:
		s, err := str(obj, "value", true)
		if err != nil {
			return e, bad(err)
		}
		e.Value = s
	case TypeMatchAny:
		vals, err := strs(obj["value"], "value", true)
		if err != nil {
			return e, bad(err)
		}
		e.Value = vals
	case TypeExists:
	case TypeList:
		lo, ok := obj["list"].(map[string]any)
		if !ok {
			return e, bad(errors.New("list: want an object with id and type"))
		}
		var ref ValueList
		if ref.ID, err = str(lo, "id", true); err != nil {
			return e, bad(fmt.Errorf("list: %w", err))
		}
		if ref.Type, err = str(lo, "type", true); err != nil {
			return e, bad(fmt.Errorf("list: %w", err))
		}
		e.List = &ref
	case TypeNested:
		raw, ok := obj["entries"].([]any)
		if !ok || len(raw) == 0 {
			return e, bad(errors.New("entries: want a non-empty array"))
		}
		for i, re := range raw {
			c, err := parseEntry(re, true)
			if err != nil {
				return e, bad(fmt.Errorf("entry %d: %w", i+1, err))
			}
			e.Entries = append(e.Entries, c)
		}
	default:
		return e, fmt.Errorf("type %q: want match, match_any, wildcard, exists, nested or list", e.Type)
	}
	return e, nil
}

// str reads a string field; required ones must be present and non-empty.
func str(obj map[string]any, key string, required bool) (string, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("missing %s", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, got %s", key, jsonType(v))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s: empty", key)
	}
	return s, nil
}

// strs reads an array of non-empty strings.
func strs(v any, key string, required bool) ([]string, error) {
	if v == nil {
		if required {
			return nil, fmt.Errorf("missing %s", key)
		}
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an array of strings, got %s", key, jsonType(v))
	}
	if required && len(arr) == 0 {
		return nil, fmt.Errorf("%s: empty array", key)
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("%s: want non-empty strings, got %s", key, jsonType(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// jsonType names what the export held instead, for an error message; v
// is decoded JSON (numbers as json.Number, see Load).
func jsonType(v any) string {
	switch ecs.Kind(v) {
	case ecs.KindString:
		return "an empty string"
	case ecs.KindNumber:
		return "a number"
	case ecs.KindBool:
		return "a boolean"
	case ecs.KindArray:
		return "an array"
	case ecs.KindObject:
		return "an object"
	case ecs.KindNull:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
