package alertdb

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/xferhunt/xferhunt/ecs"
)

// Alert documents are held compressed. As Go maps a SPEC §6 alert costs
// ~10 KB; as JSON ~2.5 KB; deflated against a dictionary of the shape every
// alert shares, a few hundred bytes. That is what keeps 100k alerts well
// under the 200 MB budget. Columns the list draws are extracted once at
// arrival, so only drill-down, copy, export and filters decode.
//
// alertDict holds the keys and boilerplate every alert repeats; changing it
// is safe because blobs never outlive the process.
var alertDict = []byte(`{"@timestamp":"2026-01-01T00:00:00.000Z","event":{"action":"creation","category":["file"],"kind":"signal","module":"auditd","original":"type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c items=2 ppid=1 pid=1 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=(none) ses=1 comm=\"sshd\" exe=\"/usr/sbin/sshd\" key=(null)\ntype=CWD msg=audit(1700000000.000:1): cwd=\"/home\"\ntype=PATH msg=audit(1700000000.000:1): item=1 name=\"/home\" inode=1 dev=08:01 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\ntype=PROCTITLE","type":["creation"],"outcome":"success","dataset":"auditd.log"},"file":{"extension":"","name":"","path":"/home/","directory":"/home"},"host":{"hostname":"","id":"","ip":[],"name":"","os":{"type":"linux"}},"kibana.alert.new_terms":[],"kibana.alert.original_time":"2026-01-01T00:00:00.000Z","kibana.alert.reason":"file event with process sshd, file /home/, by user on host created with new terms","kibana.alert.risk_score":47,"kibana.alert.rule.name":"Unusual Remote File Creation","kibana.alert.rule.rule_id":"","kibana.alert.rule.type":"new_terms","kibana.alert.rule.version":1,"kibana.alert.severity":"medium","kibana.alert.uuid":"","kibana.alert.workflow_status":"open","process":{"args":[],"entity_id":"","executable":"/usr/sbin/sshd","name":"sshd","parent":{"executable":"/usr/sbin/sshd","name":"sshd","pid":1},"pid":1,"working_directory":"/"},"source":{"ip":"","port":22},"threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0008","name":"Lateral Movement","reference":"https://attack.mitre.org/tactics/TA0008/"},"technique":[{"id":"T1021","name":"Remote Services","reference":"https://attack.mitre.org/techniques/T1021/"}]}],"user":{"audit":{"id":"","name":""},"effective":{"id":"","name":""},"id":"","name":""},"xferhunt":{"ancestry":[{"args":[],"executable":"/usr/sbin/sshd","name":"sshd","pid":1,"ppid":1}],"explain":{"clauses":[{"clause":"event.category : \"file\"","matched":true},{"clause":"event.action : (\"creation\" or \"file_create_event\")","matched":true},{"clause":"process.name : (\"scp\" or \"ftp\" or \"sftp\" or \"vsftpd\" or \"sftp-server\" or \"sync\")","matched":true},{"clause":"not file.path : (\"/tmp/*\" or \"/var/tmp/*\")","matched":true}],"history_window":"now-7d","last_seen":"never","new_terms_fields":["host.id","file.path","process.executable"]},"file":{"exists":true,"kind":"","mode":"0644","owner":"","sha256":"","size":0},"historical":false,"loss":false,"session":{"attributed_by":"","id":0,"login_time":"","sshd_pid":0,"terminal":""}}}`)

var writers = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(io.Discard, 4, alertDict) // level 4: size of 6, faster
	if err != nil {
		panic(err) // only on an invalid level, a programming error
	}
	return w
}}

var readers = sync.Pool{New: func() any {
	return flate.NewReaderDict(bytes.NewReader(nil), alertDict)
}}

// encodeDoc returns d as deflated JSON.
func encodeDoc(d ecs.Doc) ([]byte, error) {
	js, err := json.Marshal(map[string]any(d))
	if err != nil {
		return nil, fmt.Errorf("encoding alert: %w", err)
	}
	var buf bytes.Buffer
	w := writers.Get().(*flate.Writer)
	defer writers.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(js); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compressing alert: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// inflate returns the alert's JSON.
func inflate(blob []byte) ([]byte, error) {
	r := readers.Get().(io.ReadCloser)
	defer readers.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(blob), alertDict); err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	js, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decompressing alert: %w", err)
	}
	return js, nil
}

// decodeDoc returns the alert document of blob.
func decodeDoc(blob []byte) (ecs.Doc, error) {
	js, err := inflate(blob)
	if err != nil {
		return nil, err
	}
	d, err := decodeObject(js)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// parallelMatch runs fn over rows on every core, for the whole-history
// passes (filter, exception preview). With a plan, fn gets a document
// holding only the fields the plan reads, built from the row index, and
// valid only during the call; rows the index cannot answer, and every row
// without a plan, are decoded.
func parallelMatch(rows []*Row, pl *plan, fn func(i int, d ecs.Doc)) {
	workers := max(1, runtime.GOMAXPROCS(0))
	chunk := (len(rows) + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < len(rows); start += chunk {
		end := min(len(rows), start+chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			mini := ecs.Doc{}
			for i := start; i < end; i++ {
				if pl != nil && pl.miniDoc(rows[i], mini) {
					fn(i, mini)
					continue
				}
				fn(i, rows[i].doc())
			}
		}()
	}
	wg.Wait()
}
