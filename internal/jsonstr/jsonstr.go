// Package jsonstr decodes JSON string literals exactly as encoding/json
// does (every escape, surrogate pairs, invalid UTF-8 and lone surrogates
// replaced by U+FFFD) without its reflection: the ECS JSON source and the
// alert database's readers both decode escaped strings on hot paths, and
// both must give the values encoding/json would, byte for byte.
package jsonstr

import (
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is returned for a string that is not valid JSON.
var ErrSyntax = errors.New("invalid JSON string")

// Unescape maps the byte after a backslash to what it stands for; 0 for
// 'u' and every invalid escape.
func Unescape(c byte) byte { return unescape[c] }

var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// AppendUnquoted finishes decoding the string whose text starts at
// s[start] (just after its opening quote) into dst: s[start:i] is copied
// as it is (the caller checked it needs no rewriting), decoding resumes at
// i (an escape or an invalid byte) and stops at the closing quote. It
// returns the decoded text and the index just past the closing quote.
func AppendUnquoted(dst, s []byte, start, i int) ([]byte, int, error) {
	b := append(dst, s[start:i]...)
	for i < len(s) {
		// Copy a run that needs no rewriting at once: event.original
		// holds a few escapes among hundreds of plain bytes.
		j := i
		for j < len(s) && plain[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"':
			return b, i + 1, nil
		case c == '\\':
			i++
			if i >= len(s) {
				return nil, 0, ErrSyntax
			}
			if e := unescape[s[i]]; e != 0 {
				b = append(b, e)
				i++
				continue
			}
			if s[i] != 'u' {
				return nil, 0, ErrSyntax
			}
			i--
			rr := U4(s[i:])
			if rr < 0 {
				return nil, 0, ErrSyntax
			}
			i += 6
			if utf16.IsSurrogate(rr) {
				rr1 := U4(s[i:])
				if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
					i += 6
					b = utf8.AppendRune(b, dec)
					continue
				}
				rr = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, rr)
		case c < 0x20:
			return nil, 0, ErrSyntax
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			i += size
			b = utf8.AppendRune(b, r) // an invalid byte is RuneError, size 1
		}
	}
	return nil, 0, ErrSyntax
}

// plain[c] says byte c stands for itself inside a string: not a quote,
// a backslash, a control character or part of a multi-byte rune.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// U4 decodes \uXXXX at the start of s, or returns -1 (encoding/json's own
// helper).
func U4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
