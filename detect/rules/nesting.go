package rules

import "bytes"

// maxNesting bounds how deep arrays and inline tables may nest in a rule
// file. Real rules nest three or four levels; the TOML decoder's cost
// grows with the square of the depth (20,000 levels took 15 GB), so a
// deeper file is refused before it is decoded.
const maxNesting = 32

// nestingDepth returns how deep '[' and '{' nest in a TOML document,
// outside strings and comments (a rule's query is full of brackets).
func nestingDepth(data []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(data)
			}
		case '"', '\'':
			i = stringEnd(data, i)
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

// stringEnd returns the index of the last byte of the string that opens at
// data[i] (basic or literal, single- or multi-line), or len(data) when it
// never closes: the decoder reports that error.
func stringEnd(data []byte, i int) int {
	q := data[i]
	escapes := q == '"'
	delim := []byte{q}
	if bytes.HasPrefix(data[i:], []byte{q, q, q}) {
		delim = []byte{q, q, q}
	}
	for j := i + len(delim); j < len(data); j++ {
		if escapes && data[j] == '\\' {
			j++ // the escaped byte cannot close the string
			continue
		}
		if bytes.HasPrefix(data[j:], delim) {
			// A multi-line string may end with up to two more quotes
			// (""""" is a quote then the delimiter).
			end := j + len(delim) - 1
			for len(delim) == 3 && end+1 < len(data) && data[end+1] == q && end+1-j < 5 {
				end++
			}
			return end
		}
		if len(delim) == 1 && data[j] == '\n' {
			return j // single-line strings end at the line: the decoder will complain
		}
	}
	return len(data)
}
