// Package auditd turns auditd's text log (RAW and ENRICHED) into normalized
// file events (SPEC §3) and attributes them to a login session, a PAM
// conversation or an accepted connection from the records alone (SPEC §4).
//
// The parser works on bytes: it finds the record type, timestamp and serial
// of every line, and fully reads only the records of events that can produce
// an output or feed attribution. It never calls a general-purpose audit
// parser (go-libaudit's auparse costs several times more per line).
//
// A line goes through the stages in this order, one file each:
//
//   - parser.go: Parser, Line and the dispatch of one record by its type;
//   - record.go: the header and key=value body of a record;
//   - syscall.go: the SYSCALL record and the meaning of its number;
//   - attribution.go: the process, session, PAM and connection tables and
//     the lookup of SPEC §4;
//   - group.go: records grouped into events by msg=audit(SEC.MSEC:SERIAL).
//     An event ends at its EOE record or, for logs without EOE (auditd 3
//     writes none for most events), when maxPending newer events have
//     opened or the log has moved graceSec past it; records arriving after
//     that are counted as Gaps;
//   - finish.go: a complete event becomes file events (dirfd.go places
//     names relative to a directory fd; story.go adds a story's context
//     events);
//   - document.go and objects.go: the ECS document of each file event.
//
// scan.go reads whole logs (Scan), pipelined: a reader, one worker per core
// that splits blocks and groups them in turn, and a document builder.
//
// The readers that run on every line or record (parseStamp, scanOrdered
// for SYSCALL bodies, userFields) read the common form a word at a time:
// a key compared under a mask, the next space found in the same word
// (swarZero), digits converted eight at a time (eightDigits). On any
// other form they hand over to the byte-wise reading (stampDigits,
// scanFrom) or take its result: the two give the same on every input,
// which the differential tests and fuzzers (FuzzSyscallOrdered,
// FuzzParseStamp, FuzzStamp, FuzzUserFields, FuzzAtoiAll) hold them to.
package auditd
