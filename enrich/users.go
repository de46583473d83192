package enrich

import (
	"bufio"
	"os"
	"strings"
	"sync"
	"time"
)

// IDNames maps numeric ids to names from a passwd- or group-format file
// (name:x:id:...), parsed without cgo and re-read when the file changes.
type IDNames struct {
	path string

	mu      sync.Mutex
	names   map[string]string
	mtime   time.Time
	size    int64
	checked time.Time
}

// recheck bounds how often the file's mtime is looked at.
const recheck = 2 * time.Second

// NewIDNames reads ids from path lazily (e.g. /etc/passwd, /etc/group).
func NewIDNames(path string) *IDNames { return &IDNames{path: path} }

// Name returns the name for id, or "" when unknown.
func (n *IDNames) Name(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now := time.Now(); n.names == nil || now.Sub(n.checked) > recheck {
		n.checked = now
		if st, err := os.Stat(n.path); err == nil && (n.names == nil || !st.ModTime().Equal(n.mtime) || st.Size() != n.size) {
			n.mtime, n.size = st.ModTime(), st.Size()
			n.names = parseIDFile(n.path)
		} else if n.names == nil {
			n.names = map[string]string{}
		}
	}
	return n.names[id]
}

// parseIDFile reads name:password:id lines; the first name for an id wins,
// as getpwuid does.
func parseIDFile(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.SplitN(line, ":", 4)
		if len(parts) < 3 || parts[0] == "" || strings.HasPrefix(parts[0], "+") || strings.HasPrefix(parts[0], "-") {
			continue
		}
		if _, dup := out[parts[2]]; !dup {
			out[parts[2]] = parts[0]
		}
	}
	return out
}
