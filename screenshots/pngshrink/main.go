// Command pngshrink rewrites PNG screenshots with a palette of their most
// frequent colors, in place. Terminal screenshots hold a few dozen colors
// plus anti-aliasing shades, so a 128-entry palette looks the same and the
// files shrink to well under the README budget (no ImageMagick needed).
//
//	pngshrink [-colors 128] shot.png...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"slices"
)

func main() {
	n := flag.Int("colors", 128, "palette size (at most 256)")
	flag.Parse()
	for _, path := range flag.Args() {
		if err := shrink(path, min(max(*n, 2), 256)); err != nil {
			fmt.Fprintf(os.Stderr, "pngshrink: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func shrink(path string, n int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	out := image.NewPaletted(img.Bounds(), palette(img, n))
	nearest := map[color.RGBA]uint8{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgba(img.At(x, y))
			i, ok := nearest[c]
			if !ok {
				i = uint8(out.Palette.Index(c))
				nearest[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	if buf.Len() >= len(raw) {
		return nil // already small: keep the exact colors
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// palette picks n colors of img: frequent ones first, but a color close
// to one already chosen waits for a later, finer round, so a rare but
// distinct color (a green status dot) wins over the hundredth shade of
// anti-aliased grey.
func palette(img image.Image, n int) color.Palette {
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[rgba(img.At(x, y))]++
		}
	}
	cs := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b color.RGBA) int {
		if d := counts[b] - counts[a]; d != 0 {
			return d
		}
		return key(a) - key(b) // a stable order among equally frequent colors
	})
	p := make(color.Palette, 0, n)
	taken := map[color.RGBA]bool{}
	for _, minDist := range []int{96, 48, 24, 12, 6, 0} {
		for _, c := range cs {
			if len(p) == n {
				return p
			}
			if taken[c] || nearest(p, c) < minDist {
				continue
			}
			p = append(p, c)
			taken[c] = true
		}
	}
	return p
}

// nearest is the Manhattan RGB distance from c to the closest color in p.
func nearest(p color.Palette, c color.RGBA) int {
	best := 1 << 30
	for _, q := range p {
		r, g, b, _ := q.RGBA()
		d := abs(int(r>>8)-int(c.R)) + abs(int(g>>8)-int(c.G)) + abs(int(b>>8)-int(c.B))
		best = min(best, d)
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func key(c color.RGBA) int { return int(c.R)<<16 | int(c.G)<<8 | int(c.B) }

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
