package auditbeat

import (
	"encoding/json"
	"testing"

	"github.com/xferhunt/xferhunt/ecs"
)

// coalescedOpen is an aucoalesce event (go-libaudit's normalized JSON) of
// sftp-server creating a file with openat(O_CREAT), in the golden files'
// shape.
const coalescedOpen = `{
  "@timestamp": "2026-03-01T10:00:00.123Z",
  "sequence": 4711,
  "category": "audit-rule",
  "record_type": "syscall",
  "result": "success",
  "session": "7",
  "tags": ["xferhunt_file"],
  "summary": {"actor": {"primary": "alice", "secondary": "alice"}, "action": "opened-file", "object": {"type": "file", "primary": "drop.bin"}, "how": "/usr/lib/openssh/sftp-server"},
  "user": {"ids": {"auid": "1000", "uid": "1000", "euid": "1000", "gid": "1000"}, "names": {"auid": "alice", "uid": "alice"}},
  "process": {"pid": "4242", "ppid": "4241", "title": "sftp-server", "name": "sftp-server", "exe": "/usr/lib/openssh/sftp-server", "cwd": "/home/alice"},
  "file": {"path": "drop.bin", "inode": "921900", "mode": "0644", "uid": "1000", "gid": "1000"},
  "data": {"a0": "ffffff9c", "a1": "55d0", "a2": "241", "a3": "1a4", "arch": "x86_64", "exit": "3", "syscall": "openat", "tty": "(none)"},
  "paths": [
    {"inode": "2", "item": "0", "name": "/home/alice", "nametype": "PARENT"},
    {"inode": "921900", "item": "1", "mode": "0100644", "name": "drop.bin", "nametype": "CREATE", "ouid": "1000", "ogid": "1000"}
  ],
  "ecs": {"event": {"category": ["file"], "type": ["creation"]}, "user": {"effective": {}, "target": {}, "changes": {}}, "group": {}}
}`

func coalesced(t *testing.T, mutate func(d ecs.Doc)) ecs.Doc {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(coalescedOpen), &m); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(ecs.Doc(m))
	}
	return ecs.Doc(m)
}

func TestIsCoalesced(t *testing.T) {
	if !IsCoalesced(coalesced(t, nil)) {
		t.Error("aucoalesce event not recognised")
	}
	if Is(coalesced(t, nil)) {
		t.Error("aucoalesce event taken for an Auditbeat document before mapping")
	}
	for name, d := range map[string]ecs.Doc{
		"ECS document":           {"event": map[string]any{"action": "creation"}, "process": map[string]any{"name": "scp"}},
		"Auditbeat":              {"auditd": map[string]any{"sequence": 1.0}, "event": map[string]any{"module": "auditd"}},
		"no sequence":            {"record_type": "syscall", "category": "audit-rule"},
		"no summary or category": {"record_type": "syscall", "sequence": 1.0},
	} {
		if IsCoalesced(d) {
			t.Errorf("%s taken for an aucoalesce event", name)
		}
	}
}

func TestCoalescedMapsLikeAuditbeat(t *testing.T) {
	cases := []struct {
		name, action, path, orig string
		mutate                   func(d ecs.Doc)
	}{
		{name: "openat with a CREATE item is a creation", action: "creation", path: "/home/alice/drop.bin"},
		{name: "failed syscall is no event", mutate: func(d ecs.Doc) { d.Set("result", "fail") }},
		{name: "rename", action: "rename", path: "/srv/new", orig: "/srv/old", mutate: func(d ecs.Doc) {
			d.Set("data.syscall", "rename")
			d.Set("paths", []any{
				map[string]any{"name": "/srv/", "nametype": "PARENT"},
				map[string]any{"name": "/srv/old", "nametype": "DELETE"},
				map[string]any{"name": "/srv/new", "nametype": "CREATE"},
			})
		}},
		{name: "objtype spelling of older kernels", action: "creation", path: "/run/x.ref", mutate: func(d ecs.Doc) {
			d.Set("data.syscall", "mknod")
			d.Set("paths", []any{map[string]any{"name": "/run/x.ref", "objtype": "CREATE"}})
		}},
		{name: "execve is not a file event", mutate: func(d ecs.Doc) {
			d.Set("data.syscall", "execve")
			d.Set("paths", []any{map[string]any{"name": "/usr/bin/id", "nametype": "NORMAL"}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := FromCoalesced(coalesced(t, c.mutate))
			if !Is(d) {
				t.Fatal("mapped event is not Auditbeat-shaped")
			}
			got, ok := Map(d, "", "h1", "web1")
			if c.action == "" {
				if ok {
					t.Fatalf("got %s event", got.Str("event.action"))
				}
				return
			}
			if !ok {
				t.Fatal("no event")
			}
			for k, v := range map[string]string{
				"event.action":              c.action,
				"file.path":                 c.path,
				"file.Ext.original.path":    c.orig,
				"event.category":            "file",
				"host.os.type":              "linux",
				"process.name":              "sftp-server",
				"process.executable":        "/usr/lib/openssh/sftp-server",
				"process.working_directory": "/home/alice",
				"user.id":                   "1000",
				"user.name":                 "alice",
				"user.audit.id":             "1000",
				"auditd.summary.how":        "/usr/lib/openssh/sftp-server",
				"xferhunt.original.action":  "opened-file",
			} {
				if s := got.Str(k); s != v {
					t.Errorf("%s = %q, want %q", k, s, v)
				}
			}
			if got.Get("ecs") != nil || got.Get("record_type") != nil || got.Get("paths") != nil {
				t.Errorf("aucoalesce fields left at the top: %v", got.Leaves())
			}
			if k := Key(got, "h1"); k != "h1:1772359200.123:4711" {
				t.Errorf("key %q", k)
			}
		})
	}
}
