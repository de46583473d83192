package rules

import (
	"embed"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/xferhunt/xferhunt/internal/limitfile"
	"github.com/xferhunt/xferhunt/internal/visible"
)

// Kibana's defaults for keys a rule file may leave out.
const (
	DefaultFrom       = "now-6m"
	DefaultInterval   = 5 * time.Minute
	DefaultMaxSignals = 100
)

//go:embed builtin/*.toml
var builtinFS embed.FS

// builtinRule is one rule shipped inside the binary. Version is kept here
// because detection-rules files do not carry it (the repository keeps
// versions in a lock file); 0 means it is not known.
type builtinRule struct {
	file    string
	version int
	// companion names the built-in evaluator of a rule whose query xferhunt
	// does not run as KQL (see Rule.Companion).
	companion string
	// directories says the rule needs directory creations (Rule.Directories).
	directories bool
}

var builtins = map[string]builtinRule{
	// The seed document describes version 3 of the rule.
	"seed": {file: "builtin/seed.toml", version: 3},
	// The published file's version number is not in the file.
	"latest": {file: "builtin/latest.toml", version: 0},
	// Companion rules are opt-in: none is loaded unless named.
	UploadExec: {file: "builtin/upload-exec.toml", version: 1, companion: UploadExec},
	// The coverage rules: what the seed query cannot match (SPEC §8).
	"coverage-overwrite":     {file: "builtin/coverage-overwrite.toml", version: 1},
	"coverage-rename":        {file: "builtin/coverage-rename.toml", version: 1},
	"coverage-internal-sftp": {file: "builtin/coverage-internal-sftp.toml", version: 1},
	"coverage-rsync":         {file: "builtin/coverage-rsync.toml", version: 1},
	"coverage-dirs":          {file: "builtin/coverage-dirs.toml", version: 1, directories: true},
	ShellPipe:                {file: "builtin/coverage-shell-pipe.toml", version: 1, companion: ShellPipe},
}

// UploadExec names the companion rule "Remote upload executed": an upload
// by a transfer process, followed through renames, made executable or run.
const UploadExec = "upload-exec"

// ShellPipe names the companion rule "Remote File Written by an ssh
// Command": a file written by the command of an ssh login without a
// terminal (`ssh host 'cat > x'`, `tar x`).
const ShellPipe = "coverage-shell-pipe"

// Coverage names the group of companion rules for the transfers the seed
// query cannot match; each is also loadable by its own name.
const Coverage = "coverage"

// groups are names that stand for several built-in rules, in load order.
var groups = map[string][]string{
	Coverage: {"coverage-overwrite", "coverage-rename", "coverage-internal-sftp", "coverage-rsync", "coverage-dirs", ShellPipe},
}

// Builtin lists the names Load accepts besides file paths.
func Builtin() []string {
	return append([]string{"seed", "latest", UploadExec}, groups[Coverage]...)
}

// Groups lists the names LoadAll accepts for several built-in rules.
func Groups() []string { return []string{Coverage} }

// Expand returns the rule names a --rule value stands for: the members of
// a group, else the value itself.
func Expand(nameOrPath string) []string {
	if g, ok := groups[nameOrPath]; ok {
		return append([]string(nil), g...)
	}
	return []string{nameOrPath}
}

// LoadAll loads every rule a --rule value stands for (see Expand).
func LoadAll(nameOrPath string) ([]*Rule, error) {
	var out []*Rule
	for _, n := range Expand(nameOrPath) {
		r, err := Load(n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LoadError says which rule file failed and why, with the TOML line when
// the decoder knows it.
type LoadError struct {
	Source string
	Line   int // 0 when unknown
	Err    error
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("rule %s: line %d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("rule %s: %v", e.Source, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Load returns a validated rule: "seed", "latest" and the companions name
// the embedded rules, anything else is a path to a detection-rules TOML
// file. The built-in names win over files of the same name; write ./seed
// for those. A group name ("coverage") is not a rule: see LoadAll.
func Load(nameOrPath string) (*Rule, error) {
	if _, ok := groups[nameOrPath]; ok {
		return nil, &LoadError{Source: nameOrPath, Err: errors.New("names a group of rules, not one (LoadAll)")}
	}
	if b, ok := builtins[nameOrPath]; ok {
		data, err := builtinFS.ReadFile(b.file)
		if err != nil {
			return nil, &LoadError{Source: nameOrPath, Err: err}
		}
		r, err := parse(data, nameOrPath)
		if err != nil {
			return nil, err
		}
		if r.Version == 0 {
			r.Version = b.version
		}
		r.Companion = b.companion
		r.Directories = b.directories
		return r, validated(r)
	}
	return LoadFile(nameOrPath)
}

// MaxFileSize caps a rule file: published rules are a few KiB, and a
// mistaken --rule /dev/zero or a log given as a rule must fail at once.
const MaxFileSize = 1 << 20

// LoadFile reads and validates one detection-rules TOML file of at most
// MaxFileSize bytes.
func LoadFile(path string) (*Rule, error) {
	data, err := limitfile.Read(path, MaxFileSize)
	if err != nil {
		return nil, &LoadError{Source: path, Err: err}
	}
	return Parse(data, path)
}

// Parse decodes a detection-rules TOML document and validates it; source
// names it in errors and becomes Rule.Source.
func Parse(data []byte, source string) (*Rule, error) {
	r, err := parse(data, source)
	if err != nil {
		return nil, err
	}
	return r, validated(r)
}

func validated(r *Rule) error {
	if err := r.Validate(); err != nil {
		return &LoadError{Source: r.Source, Err: err}
	}
	return nil
}

// fileVersion finds the version some file names carry ("….v3.toml").
var fileVersion = regexp.MustCompile(`\.v(\d+)\.toml$`)

func parse(data []byte, source string) (*Rule, error) {
	if d := nestingDepth(data); d > maxNesting {
		return nil, &LoadError{Source: source, Err: fmt.Errorf("arrays and tables nest %d levels deep, more than the %d allowed", d, maxNesting)}
	}
	var f tomlFile
	if _, err := toml.Decode(string(data), &f); err != nil {
		return nil, tomlError(source, err)
	}
	if f.Rule == nil {
		return nil, &LoadError{Source: source, Err: errors.New("no [rule] table")}
	}
	t := f.Rule
	r := &Rule{
		Source:            source,
		Name:              t.Name,
		RuleID:            t.RuleID,
		Type:              t.Type,
		Language:          t.Language,
		Query:             strings.TrimSpace(t.Query),
		Index:             t.Index,
		Description:       strings.TrimSpace(t.Description),
		Note:              t.Note,
		Severity:          t.Severity,
		RiskScore:         t.RiskScore,
		Tags:              t.Tags,
		References:        t.References,
		Author:            t.Author,
		License:           t.License,
		Setup:             t.Setup,
		Maturity:          f.Metadata.Maturity,
		UpdatedDate:       f.Metadata.UpdatedDate,
		CreationDate:      f.Metadata.CreationDate,
		FalsePositives:    t.FalsePositives,
		From:              t.From,
		Interval:          DefaultInterval,
		MaxSignals:        DefaultMaxSignals,
		TimestampOverride: t.TimestampOverride,
	}
	if t.Version != nil {
		r.Version = *t.Version
	} else if m := fileVersion.FindStringSubmatch(source); m != nil {
		r.Version, _ = strconv.Atoi(m[1])
	}
	if r.From == "" {
		r.From = DefaultFrom
	}
	if t.Interval != "" {
		d, err := ParseDuration(t.Interval)
		if err != nil {
			return nil, &LoadError{Source: source, Err: fmt.Errorf("interval: %w", err)}
		}
		r.Interval = d
	}
	if t.MaxSignals != nil {
		r.MaxSignals = *t.MaxSignals
	}
	if nt := t.NewTerms; nt != nil {
		if nt.Field != "" && nt.Field != "new_terms_fields" {
			return nil, &LoadError{Source: source, Err: fmt.Errorf("[rule.new_terms]: field = %q, want \"new_terms_fields\"", nt.Field)}
		}
		r.NewTermsFields = nt.Value
		for _, h := range nt.HistoryWindowStart {
			if h.Field != "" && h.Field != "history_window_start" {
				return nil, &LoadError{Source: source, Err: fmt.Errorf("[[rule.new_terms.history_window_start]]: field = %q, want \"history_window_start\"", h.Field)}
			}
			r.HistoryWindowStart = h.Value
		}
		if r.HistoryWindowStart != "" {
			d, err := ParseDuration(r.HistoryWindowStart)
			if err != nil {
				m, _, hi, merr := ParseWindowStart(r.HistoryWindowStart)
				if merr != nil {
					return nil, &LoadError{Source: source, Err: fmt.Errorf("history_window_start: %w", merr)}
				}
				r.HistoryStart, d = m, hi
			}
			r.HistoryWindow = d
		}
	}
	if f := t.InvestigationFields; f != nil {
		r.InvestigationFields = []string{}
		for i, name := range f.FieldNames {
			if strings.TrimSpace(name) == "" {
				return nil, &LoadError{Source: source, Err: fmt.Errorf("investigation_fields.field_names[%d]: empty field name", i)}
			}
			r.InvestigationFields = append(r.InvestigationFields, name)
		}
	}
	for _, th := range t.Threat {
		r.Threat = append(r.Threat, th.threat())
	}
	for i, x := range t.ExceptionsList {
		if x.ListID == "" {
			return nil, &LoadError{Source: source, Err: fmt.Errorf("exceptions_list[%d]: no list_id", i)}
		}
		r.ExceptionsList = append(r.ExceptionsList, ExceptionListRef{ID: x.ID, ListID: x.ListID, NamespaceType: x.NamespaceType, Type: x.Type})
	}
	return r, nil
}

// decodeErr matches the decoder's type errors, which are plain errors that
// only carry the line in their text.
var decodeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// tomlError turns a decoder error into a LoadError with the line moved to
// its own field, so the message reads "rule F: line N: key K: reason".
func tomlError(source string, err error) error {
	le := &LoadError{Source: source, Err: err}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		le.Line = pe.Position.Line
		msg := pe.Message
		if pe.LastKey != "" {
			msg = "key " + pe.LastKey + ": " + msg
		}
		le.Err = errors.New(visible.Escaped(msg))
		return le
	}
	if m := decodeErr.FindStringSubmatch(err.Error()); m != nil {
		le.Line, _ = strconv.Atoi(m[1])
		le.Err = errors.New(visible.Escaped(fmt.Sprintf("key %s: %s", m[2], m[3])))
		return le
	}
	le.Err = oneLine{err}
	return le
}

// oneLine prints a TOML decoder's error on one visible line: its messages
// quote the file's text as it is, newlines and escape sequences included
// (FuzzParse: a string ending in a backslash and a newline).
type oneLine struct{ err error }

func (e oneLine) Error() string { return visible.Escaped(e.err.Error()) }
func (e oneLine) Unwrap() error { return e.err }

// tomlFile mirrors the parts of a detection-rules file xferhunt reads;
// every other key ([transform], setup tables, …) is ignored.
type tomlFile struct {
	Metadata struct {
		Maturity     string `toml:"maturity"`
		UpdatedDate  string `toml:"updated_date"`
		CreationDate string `toml:"creation_date"`
	} `toml:"metadata"`
	Rule *tomlRule `toml:"rule"`
}

type tomlRule struct {
	Author         []string `toml:"author"`
	FalsePositives []string `toml:"false_positives"`
	// InvestigationFields is detection-rules' [rule.investigation_fields].
	InvestigationFields *struct {
		FieldNames []string `toml:"field_names"`
	} `toml:"investigation_fields"`
	Description       string        `toml:"description"`
	From              string        `toml:"from"`
	Index             []string      `toml:"index"`
	Interval          string        `toml:"interval"`
	Language          string        `toml:"language"`
	License           string        `toml:"license"`
	MaxSignals        *int          `toml:"max_signals"`
	Name              string        `toml:"name"`
	Note              string        `toml:"note"`
	Query             string        `toml:"query"`
	References        []string      `toml:"references"`
	RiskScore         int           `toml:"risk_score"`
	RuleID            string        `toml:"rule_id"`
	Setup             string        `toml:"setup"`
	Severity          string        `toml:"severity"`
	Tags              []string      `toml:"tags"`
	TimestampOverride string        `toml:"timestamp_override"`
	Type              string        `toml:"type"`
	Version           *int          `toml:"version"`
	Threat            []tomlThreat  `toml:"threat"`
	NewTerms          *tomlNewTerms `toml:"new_terms"`
	ExceptionsList    []struct {
		ID            string `toml:"id"`
		ListID        string `toml:"list_id"`
		NamespaceType string `toml:"namespace_type"`
		Type          string `toml:"type"`
	} `toml:"exceptions_list"`
}

// tomlNewTerms is detection-rules' spelling of the new_terms parameters:
// a field/value pair, with the history window nested as a list of the same.
type tomlNewTerms struct {
	Field              string   `toml:"field"`
	Value              []string `toml:"value"`
	HistoryWindowStart []struct {
		Field string `toml:"field"`
		Value string `toml:"value"`
	} `toml:"history_window_start"`
}

type tomlRef struct {
	ID        string `toml:"id"`
	Name      string `toml:"name"`
	Reference string `toml:"reference"`
}

func (t tomlRef) ref() Reference { return Reference(t) }

type tomlThreat struct {
	Framework string  `toml:"framework"`
	Tactic    tomlRef `toml:"tactic"`
	Technique []struct {
		tomlRef
		Subtechnique []tomlRef `toml:"subtechnique"`
	} `toml:"technique"`
}

func (t tomlThreat) threat() Threat {
	out := Threat{Framework: t.Framework, Tactic: t.Tactic.ref()}
	for _, tq := range t.Technique {
		tech := Technique{Reference: tq.ref()}
		for _, s := range tq.Subtechnique {
			tech.Subtechnique = append(tech.Subtechnique, s.ref())
		}
		out.Technique = append(out.Technique, tech)
	}
	return out
}

// displaySource shortens a path for listings without losing which file it is.
func displaySource(s string) string {
	if _, ok := builtins[s]; ok {
		return s + " (built in)"
	}
	if abs, err := filepath.Abs(s); err == nil {
		return abs
	}
	return s
}
