package exceptions

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"

	"github.com/xferhunt/xferhunt/internal/safefile"
)

// kibanaTime is how Kibana writes expire_time.
const kibanaTime = "2006-01-02T15:04:05.000Z07:00"

// NewItemFromField builds the "field is value" exception the TUI offers on
// an alert field. Kibana refuses an empty match value, so callers should
// not offer this for empty fields.
func NewItemFromField(field string, value string) Item {
	return Item{
		ID:            newID(),
		ListID:        DefaultListID,
		Name:          fmt.Sprintf("%s is %s", field, value),
		Description:   "Added in xferhunt from an alert field",
		NamespaceType: "single",
		Entries: []Entry{{
			Field:    field,
			Operator: OperatorIncluded,
			Type:     TypeMatch,
			Value:    value,
		}},
	}
}

// newID makes a random UUID (version 4), the shape Kibana gives item ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Add appends an item. An item without a list, or on DefaultListID (as
// NewItemFromField makes them), joins the first loaded list, so exceptions
// added in xferhunt go back to Kibana with the list they were loaded from;
// with no list loaded, a DefaultListID list object is created for them.
func (l *List) Add(it Item) {
	if it.ID == "" {
		it.ID = newID()
	}
	if it.ListID == "" || (it.ListID == DefaultListID && len(l.Lists) > 0) {
		it.ListID = DefaultListID
		if len(l.Lists) > 0 {
			it.ListID = l.Lists[0].ListID
		}
	}
	if it.NamespaceType == "" {
		it.NamespaceType = "single"
	}
	found := false
	for _, li := range l.Lists {
		found = found || li.ListID == it.ListID
	}
	if !found {
		l.Lists = append(l.Lists, ListInfo{
			ListID:        it.ListID,
			Name:          "xferhunt exceptions",
			Description:   "Exceptions added in xferhunt",
			Type:          "detection",
			NamespaceType: it.NamespaceType,
		})
	}
	l.Items = append(l.Items, it)
}

// Export writes the list in Kibana's export format: list objects, items,
// then the export summary line. Fields read from a file and not used by
// xferhunt are written back as they were, so an export imports into Kibana.
func (l *List) Export(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	lists := l.Lists
	if len(lists) == 0 && len(l.Items) > 0 {
		// Kibana's import wants the list of the items too.
		tmp := &List{}
		tmp.Add(Item{ListID: l.Items[0].ListID})
		lists = tmp.Lists
	}
	for _, li := range lists {
		if err := enc.Encode(li.object()); err != nil {
			return fmt.Errorf("export list %q: %w", li.ListID, err)
		}
	}
	for i := range l.Items {
		if err := enc.Encode(l.Items[i].object()); err != nil {
			return fmt.Errorf("export item %q: %w", l.Items[i].ID, err)
		}
	}
	summary := map[string]any{
		"exported_exception_list_count":      len(lists),
		"exported_exception_list_item_count": len(l.Items),
		"missing_exception_list_item_count":  0,
		"missing_exception_list_items":       []any{},
		"missing_exception_lists":            []any{},
		"missing_exception_lists_count":      0,
	}
	if err := enc.Encode(summary); err != nil {
		return fmt.Errorf("export summary: %w", err)
	}
	return nil
}

// SaveFile exports the list to path atomically (write, sync, rename) with
// mode 0600: exceptions decide what a responder never sees, so the file is
// written only in a private directory reached without symlinks
// (internal/safefile).
func (l *List) SaveFile(path string) error {
	var buf bytes.Buffer
	if err := l.Export(&buf); err != nil {
		return fmt.Errorf("save exceptions %s: %w", path, err)
	}
	d, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("save exceptions: %w", err)
	}
	defer d.Close()
	if err := d.WriteFile(filepath.Base(path), buf.Bytes()); err != nil {
		return fmt.Errorf("save exceptions: %w", err)
	}
	return nil
}

func (li ListInfo) object() map[string]any {
	obj := maps.Clone(li.raw)
	if obj == nil {
		obj = map[string]any{"os_types": []any{}, "tags": []any{}, "immutable": false}
	}
	obj["list_id"] = li.ListID
	obj["name"] = li.Name
	obj["description"] = li.Description
	obj["type"] = orDefault(li.Type, "detection")
	obj["namespace_type"] = orDefault(li.NamespaceType, "single")
	return obj
}

func (it *Item) object() map[string]any {
	obj := maps.Clone(it.raw)
	if obj == nil {
		obj = map[string]any{"comments": []any{}, "tags": []any{}, "type": "simple"}
	}
	obj["item_id"] = it.ID
	obj["list_id"] = it.ListID
	obj["name"] = it.Name
	obj["description"] = it.Description
	obj["namespace_type"] = orDefault(it.NamespaceType, "single")
	if _, ok := obj["type"]; !ok {
		obj["type"] = "simple"
	}
	osTypes := make([]string, len(it.OSTypes))
	copy(osTypes, it.OSTypes)
	obj["os_types"] = osTypes
	if it.Expire.IsZero() {
		delete(obj, "expire_time")
	} else {
		obj["expire_time"] = it.Expire.UTC().Format(kibanaTime)
	}
	obj["entries"] = entryObjects(it.Entries)
	return obj
}

func entryObjects(es []Entry) []map[string]any {
	out := make([]map[string]any, 0, len(es))
	for _, e := range es {
		o := map[string]any{"field": e.Field, "type": e.Type}
		switch e.Type {
		case TypeNested:
			o["entries"] = entryObjects(e.Entries)
		case TypeList:
			o["operator"] = e.Operator
			if e.List != nil {
				o["list"] = map[string]any{"id": e.List.ID, "type": e.List.Type}
			}
		case TypeExists:
			o["operator"] = e.Operator
		default:
			o["operator"] = e.Operator
			o["value"] = e.Value
		}
		out = append(out, o)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
