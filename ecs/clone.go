package ecs

// Clone returns a deep copy of d: maps and slices are copied, scalars
// shared. A document handed on (to a sink, a UI row) may still be read
// while a copy of it is changed, as when file facts are taken again.
func (d Doc) Clone() Doc {
	if d == nil {
		return nil
	}
	return cloneMap(d)
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case Doc:
		return Doc(cloneMap(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i] = cloneMap(e)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return v
}
