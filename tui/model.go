package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/xferhunt/xferhunt/alertdb"
	"github.com/xferhunt/xferhunt/internal/liveness"
	"github.com/xferhunt/xferhunt/keymap"
	"github.com/xferhunt/xferhunt/triage"
)

// Options configure a Model. Backend is required.
type Options struct {
	Backend Backend
	// NoColor drops colors. The caller decides it (the pipeline reads
	// NO_COLOR, once); the TUI never reads the environment itself.
	NoColor bool
	// Light assumes a light background until the terminal reports its own
	// (most report it within a few milliseconds; dark is the default).
	Light bool
	// ExportDir is where export writes NDJSON files ("." when empty).
	ExportDir string
	// Now and Location make time display deterministic in tests.
	// Location is the zone times are shown in: nil is UTC (with a Z),
	// time.Local follows TZ; the header names it.
	Now      func() time.Time
	Location *time.Location
	// Ephemeral says the session's triage is held in memory only
	// (--ephemeral): quitting after a status change asks first.
	Ephemeral bool
	// Guide overrides Backend.RuleGuide (tests, demo).
	Guide string
	// ReadOnly (--readonly) turns off every key that changes the host.
	ReadOnly bool
	// Here is this host for the live verdict (internal/liveness); the zero
	// value (a recording, a view of old alerts) refuses every host action.
	Here liveness.Host
}

// overlay is what currently owns the keyboard on top of the panes.
type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayFilter
	overlayConfirm
	overlaySearch     // the story view's search prompt
	overlayLog        // the response log
	overlayCommand    // the : command line
	overlayFind       // the detail view's search prompt
	overlayException  // the exception editor
	overlayExceptions // the list of exceptions
)

// confirm is a pending yes/no question and the Cmd a yes runs; with
// choices, each choice's key runs its Cmd instead (K: process or session).
type confirm struct {
	title, body string
	yes         tea.Cmd
	choices     []choice
}

// choice is one answer of a confirm with several.
type choice struct {
	key *key.Binding
	cmd tea.Cmd
}

// Model is the root model: it owns all state; components are plain render
// functions over it (DESIGN.md).
type Model struct {
	opt    Options
	keys   keymap.KeyMap
	styles Styles
	dark   bool

	width, height int

	st       alertdb.Store
	statuses map[string]triage.Status
	sortMode alertdb.SortMode
	pred     alertdb.Matcher // the applied filter, nil for none
	filter   string          // applied filter text
	gen      int             // bumps on every filter/sort request; stale results are ignored
	pending  bool

	cursor, offset int // selection and first visible row, positions in the shown order

	detail bool
	tab    int
	field  int // focused field line in the detail tab
	dtop   int // detail scroll
	// dfree detaches the scroll from the focused field: a page, a section
	// or a match showed rows without a field (the Raw tab's JSON).
	dfree  bool
	dlines []dline
	drows  []drow // dlines wrapped to the detail width, built in Update
	dkey   detailKey
	guide  string

	overlay  overlay
	input    []rune
	inputErr string
	hint     string // completion candidates beside the prompt
	ask      confirm
	// hist are the filter (/) and command (:) lines entered, oldest
	// first; hpos walks them with ↑/↓ (len = the line being edited).
	hist    [2][]string
	hpos    int
	draft   []rune // what was typed before ↑ recalled an older line
	askQuit bool   // the open dialog is the quit question
	htop    int    // first help line shown

	clock clock

	// paused holds arriving batches back from the list (p); the header
	// counts them.
	paused bool
	held   [][]*alertdb.Row
	heldN  int

	// unsaved counts status writes not yet acknowledged by the backend,
	// triaged whether this session changed any status (lost on quit when
	// Ephemeral).
	unsaved int
	triaged bool

	find findState // detail view search

	flash    string
	flashErr bool

	health  HealthMsg
	dropped uint64

	sv storyView

	ex  excEditor
	exl excList

	// responses is the response log as last read (R), newest first.
	responses []string
}

// New builds the model. It reads persisted statuses and the guide once,
// here, rather than in Update.
func New(opt Options) Model {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.ExportDir == "" {
		opt.ExportDir = "."
	}
	m := Model{
		opt:      opt,
		keys:     keymap.Default(),
		dark:     !opt.Light,
		st:       alertdb.NewStore(),
		statuses: map[string]triage.Status{},
		width:    80,
		height:   24,
		guide:    opt.Guide,
		clock:    newClock(opt.Location, opt.Now()),
	}
	if opt.Backend != nil {
		for id, s := range opt.Backend.Statuses() {
			m.statuses[id] = s
		}
		if m.guide == "" {
			m.guide = opt.Backend.RuleGuide()
		}
	}
	m.styles = NewStyles(m.dark, opt.NoColor)
	m.syncKeys()
	return m
}

// Init asks the terminal for its background so styles fit light themes.
func (m Model) Init() tea.Cmd {
	return tea.RequestBackgroundColor
}

// Update dispatches in a fixed order: size, data, results, then input to
// whatever has focus (overlay before panes). Handlers live in handlers.go.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.styles = NewStyles(m.dark, m.opt.NoColor)
	case AlertsMsg:
		m.onAlerts(msg)
		cmd = m.refreshStory()
	case HealthMsg:
		m.health = msg
		cmd = m.refreshStory()
	case storyMsg:
		cmd = m.onStory(msg)
	case storySearchMsg:
		m.onStorySearch(msg)
	case filterResultMsg:
		m.onFilterResult(msg)
	case statusSavedMsg:
		m.unsaved = max(0, m.unsaved-1)
		m.onResult(msg)
	case killPlanMsg, actionMsg, evidenceMsg, exportedMsg, responsesMsg:
		m.onResult(msg)
	case excPreviewMsg, excSavedMsg, excListMsg, excDeletedMsg, excExportedMsg, recheckedMsg:
		cmd = m.onExceptionResult(msg)
	case tea.KeyPressMsg:
		m, cmd = m.onKey(msg)
	case tea.MouseWheelMsg:
		m.onWheel(msg)
	case tea.MouseClickMsg:
		cmd = m.onClick(msg)
	}
	m.clamp()
	// The detail lines first, then the keys: a key that arrives in the
	// same batch as the enter that opened the detail (x after enter) must
	// find the bindings that detail enables.
	if m.detail {
		m.refreshDetail()
	}
	m.syncKeys()
	if m.sv.open {
		m.sv.clampTop(m.storyGeom())
	}
	return m, cmd
}

// View draws the whole screen from state; it does no I/O and no work that
// grows with the number of alerts.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "xferhunt"
	return v
}
