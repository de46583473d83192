package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestShrinkKeepsRareColors: a palette PNG comes out, smaller, and a color
// used by a handful of pixels survives next to many grey shades.
func TestShrinkKeepsRareColors(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for y := range 100 {
		for x := range 200 {
			g := uint8(30 + (x*y)%200) // many anti-aliasing-like shades
			img.Set(x, y, color.RGBA{g, g, g, 255})
		}
	}
	green := color.RGBA{102, 187, 106, 255}
	for x := range 6 {
		img.Set(x, 0, green)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shot.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := shrink(path, 16); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) >= buf.Len() {
		t.Errorf("not smaller: %d >= %d bytes", len(raw), buf.Len())
	}
	out, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := out.(*image.Paletted)
	if !ok || len(p.Palette) > 16 {
		t.Fatalf("got %T, want a palette of at most 16 colors", out)
	}
	if c := rgba(out.At(2, 0)); c != green {
		t.Errorf("rare green became %v", c)
	}
}
