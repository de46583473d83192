package sources

import ()

// CheckInput tells, without consuming it, whether path is a recorded input
// that ScanFile can read: it exists, is a regular readable file, is text,
// and its format has a reader. Callers check every path first so that a
// typo in the last one fails before the first one is scanned. Stdin ("-")
// cannot be peeked without consuming it and always passes.
func CheckInput(path string) error {
	if path == "-" {
		return nil
	}
	f, err := openPath(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = prepare(f, path)
	return err
}
