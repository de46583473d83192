package enrich

// Field names of what the enricher writes into an alert. The TUI reads the
// same constants, so a renamed field cannot leave a tab showing "—" while
// the alert holds the value (it once read xferhunt.file.sha256 and .kind
// while this package wrote .hash.sha256 and .type).
const (
	// FileExists is whether the path still named a file when the facts
	// were taken.
	FileExists = "xferhunt.file.exists"
	// FileSize is the file's size in bytes.
	FileSize = "xferhunt.file.size"
	// FileMode is the permission bits as chmod takes them ("0644").
	FileMode = "xferhunt.file.mode"
	// FileUID and FileGID are the numeric owner and group.
	FileUID = "xferhunt.file.uid"
	FileGID = "xferhunt.file.gid"
	// FileOwner and FileGroup are their names in this host's database.
	FileOwner = "xferhunt.file.owner"
	FileGroup = "xferhunt.file.group"
	// FileType is the content type from magic bytes (elf, script, gzip …)
	// or the kind of a non-regular file (directory, symlink, fifo …).
	FileType = "xferhunt.file.type"
	// FileSHA256 is the content's sha256, when it was hashed.
	FileSHA256 = "xferhunt.file.hash.sha256"
	// FileHashSkipped says why a regular file has no sha256.
	FileHashSkipped = "xferhunt.file.hash.skipped"
	// FileReplaced is true when the path now names another file (another
	// inode) than the event recorded: the facts are not the upload's.
	FileReplaced = "xferhunt.file.replaced"
	// FileFactsState says what the facts above are worth: FactsFinal,
	// FactsPartial or FactsPending.
	FileFactsState = "xferhunt.file.facts"
	// FileFactsAt is when the facts were taken (RFC 3339, UTC).
	FileFactsAt = "xferhunt.file.facts_at"

	// ProcessAncestry is the process chain read from this host's /proc
	// at alert time, nearest first (live alerts only).
	ProcessAncestry = "xferhunt.process.ancestry"
	// RecordedAncestry is the chain the audit records themselves told,
	// nearest first (written by the audit sources, not by this package).
	RecordedAncestry = "xferhunt.ancestry"
)

// Values of FileFactsState.
const (
	// FactsFinal: taken after the writer closed the file or exited.
	FactsFinal = "final"
	// FactsPartial: the writer still held the file open when the bounded
	// wait ended; the file may still be growing.
	FactsPartial = "partial"
	// FactsPending: the writer still held the file open when the alert was
	// raised; an update of the alert (same kibana.alert.uuid) follows.
	FactsPending = "pending"
)

// FileFactFields are the file facts, in the order the File tab shows them.
var FileFactFields = []string{FileExists, FileSize, FileMode, FileUID, FileGID, FileOwner, FileGroup, FileType, FileSHA256, FileHashSkipped, FileReplaced}
