package pipeline

import (
	"github.com/xferhunt/xferhunt/preflight"
	"github.com/xferhunt/xferhunt/sources/catalog"
)

// Preflight runs `xferhunt doctor`'s checks for the live run cfg
// describes: the same state directory, coverage and fallback log. It only
// reads the host.
func Preflight(cfg Config) preflight.Report {
	return preflight.Interpret(preflight.Gather(preflight.Options{
		StateDir:   cfg.StatePath(),
		Ephemeral:  cfg.Ephemeral,
		Coverage:   cfg.Coverage,
		Logs:       []string{catalog.DefaultAuditLog},
		SSHDConfig: "/etc/ssh/sshd_config",
	}))
}
