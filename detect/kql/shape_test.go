package kql

import (
	"slices"
	"strings"
	"testing"
)

func TestShape(t *testing.T) {
	type want struct {
		free, nested, ranges, wild bool
		longest                    int
	}
	for q, w := range map[string]want{
		`sshd`:                                   {free: true, longest: 4},
		`process.name : (scp or sshd)`:           {longest: 4},
		`process.* : scp`:                        {longest: 3},
		`xferhunt.historical : true`:             {},
		`a : "(q\"x w\"(" or b : x`:              {longest: 8},
		`file.path : *`:                          {wild: true},
		`file.path : /srv/*`:                     {wild: true},
		`*deep*`:                                 {free: true, wild: true},
		`process.pid >= 1`:                       {ranges: true},
		`process : { name : scp }`:               {nested: true, longest: 3},
		`a : "` + strings.Repeat("x", 200) + `"`: {longest: 200},
	} {
		s := MustParse(q).Shape()
		got := want{s.FreeText, s.Nested, s.Ranges, s.Wildcards, s.LongestLiteral}
		if got != w {
			t.Errorf("%s: shape %+v, want %+v", q, got, w)
		}
		if !slices.Equal(s.Fields, MustParse(q).Fields()) {
			t.Errorf("%s: fields %v", q, s.Fields)
		}
	}
}
