package ecsjson

// Export wrappers responders actually hand over. Each one is recognised by
// keys no ECS event has at its top level, so a plain event is never taken
// for a wrapper.

// maxWrapDepth bounds how many wrappers are peeled off one object (a
// response inside an archive would be two); deeper nesting is an event.
const maxWrapDepth = 3

// docFunc receives one event document, the Elasticsearch _id it was
// stored under ("" when the export does not say) and whether it came out
// of a wrapper (so the text read is not the event's own).
type docFunc func(doc map[string]any, id string, wrapped bool)

// eachDoc calls fn for every event document m holds: m itself, or the
// documents of the wrapper m is. It returns how many array elements were
// not objects (malformed documents).
func eachDoc(m map[string]any, fn docFunc) (malformed int) {
	return eachDocDepth(m, fn, 0)
}

func eachDocDepth(m map[string]any, fn docFunc, depth int) (malformed int) {
	if depth >= maxWrapDepth {
		fn(m, "", true)
		return 0
	}
	if src, id, ok := archived(m); ok {
		if src != nil {
			return eachDocDepth(src, func(d map[string]any, inner string, _ bool) { fn(d, firstID(inner, id), true) }, depth+1)
		}
		return 0 // an index or data stream definition: no event in it
	}
	if src, ok := m["_source"].(map[string]any); ok {
		id, _ := m["_id"].(string)
		return eachDocDepth(src, func(d map[string]any, inner string, _ bool) { fn(d, firstID(inner, id), true) }, depth+1)
	}
	if hits, ok := searchHits(m); ok {
		return eachElement(hits, fn, depth)
	}
	if evs, ok := m["events"].([]any); ok && len(m) == 1 {
		return eachElement(evs, fn, depth)
	}
	if rs, ok := m["responses"].([]any); ok {
		return eachElement(rs, fn, depth) // _msearch: one response per query
	}
	if ev, ok := goldenEvent(m); ok {
		fn(ev, "", true)
		return 0
	}
	fn(m, "", depth > 0)
	return 0
}

func eachElement(elems []any, fn docFunc, depth int) (malformed int) {
	for _, e := range elems {
		em, ok := e.(map[string]any)
		if !ok {
			malformed++
			continue
		}
		malformed += eachDocDepth(em, fn, depth+1)
	}
	return malformed
}

func firstID(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// archived recognises a Kibana es_archiver record:
// {"type":"doc","value":{"index":…,"id":…,"source":{…}}}. Records of other
// types (index mappings) are archive entries without an event: ok with a
// nil source.
func archived(m map[string]any) (src map[string]any, id string, ok bool) {
	typ, _ := m["type"].(string)
	val, isMap := m["value"].(map[string]any)
	if typ == "" || !isMap || len(m) > 2 {
		return nil, "", false
	}
	switch typ {
	case "doc", "_doc":
		src, _ = val["source"].(map[string]any)
		id, _ = val["id"].(string)
		return src, id, true
	case "index", "data_stream", "index_template", "component_template":
		return nil, "", true
	}
	return nil, "", false
}

// searchHits recognises an Elasticsearch _search (or scroll) response.
func searchHits(m map[string]any) ([]any, bool) {
	outer, ok := m["hits"].(map[string]any)
	if !ok {
		return nil, false
	}
	hits, ok := outer["hits"].([]any)
	return hits, ok
}

// goldenEvent recognises one element of go-libaudit's aucoalesce golden
// files: {"test_name":…, "event":{…}, "warnings":[…]}.
func goldenEvent(m map[string]any) (map[string]any, bool) {
	if _, ok := m["test_name"].(string); !ok {
		return nil, false
	}
	ev, ok := m["event"].(map[string]any)
	return ev, ok
}
