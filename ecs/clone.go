package ecs

// Clone returns a deep copy of d (see the function Clone): a document
// handed on (to a sink, a UI row) may still be read while a copy of it is
// changed, as when file facts are taken again.
func (d Doc) Clone() Doc {
	if d == nil {
		return nil
	}
	return Doc(Clone(map[string]any(d)).(map[string]any))
}
