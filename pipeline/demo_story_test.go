package pipeline

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/xferhunt/xferhunt/detect"
	"github.com/xferhunt/xferhunt/sources"
	"github.com/xferhunt/xferhunt/sources/catalog"
	"github.com/xferhunt/xferhunt/sources/replay"
	"github.com/xferhunt/xferhunt/story"
)

// The demo's live pipeline (a paced replay, a recording: no enrichment)
// keeps the story `xferhunt story` reads from the file, but for what only
// later records attribute: a live event is finished when the input goes
// quiet, before the PAM records that name a pre-login sshd's address
// (its connects) arrive, while a file scan finishes it later.
func TestDemoStoryMatchesFile(t *testing.T) {
	data, err := os.ReadFile("../testdata/capture/enriched.log")
	if err != nil {
		t.Fatal(err)
	}
	var errb bytesSink
	cfg := Config{Rules: []string{"seed"}, Ephemeral: true, HistoryWindow: DemoWindow, HostID: "xferhunt-demo", Stderr: &errb}
	s, err := newSetup(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.recorded = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := catalog.Reader("demo replay", replay.New(ctx, data, 4), catalog.Options{HostID: cfg.HostID, HostName: "demo", Story: true})
	l := newLive(s, []sources.Source{src})
	if err := l.run(ctx, func(detect.Alert) {}); err != nil {
		t.Fatal(err)
	}
	got := s.stories.Story(story.Scope{Kind: story.ByAddr, Addr: "127.0.0.5"})

	file := story.NewStore(0)
	_, err = catalog.Formats().ScanFile("../testdata/capture/enriched.log", sources.ScanOptions{HostID: cfg.HostID, Story: true, Emit: func(ev sources.Event) {
		if e, ok := story.FromDoc(ev.Doc, ev.Key); ok {
			file.Add(e)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := file.Story(story.Scope{Kind: story.ByAddr, Addr: "127.0.0.5"})
	key := func(e story.Event) string { return e.Key + " " + e.Kind.String() + " " + e.Path }
	have := map[string]bool{}
	for _, e := range got {
		have[key(e)] = true
	}
	fileHas := map[string]bool{}
	for _, e := range want {
		fileHas[key(e)] = true
		if !have[key(e)] && e.Kind != story.Connect {
			t.Errorf("the demo's story lacks %s %s", e.Kind, e.Detail())
		}
	}
	for _, e := range got {
		if !fileHas[key(e)] {
			t.Errorf("the demo's story holds %s %s, the file's does not", e.Kind, e.Detail())
		}
	}
	if len(got) < len(want)-6 {
		t.Errorf("demo story: %d events, file: %d", len(got), len(want))
	}
}
