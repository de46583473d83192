package netlink

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"
)

// parseRule reads one auditctl syscall rule line (-a/-A, -F, -C, -S, -k).
// go-libaudit's rule/flags does the same but pulls in a module this
// repository does not carry; xferhunt's rule set never needs shell quoting.
func parseRule(line string) (*rule.SyscallRule, error) {
	f := strings.Fields(line)
	r := &rule.SyscallRule{Type: rule.AppendSyscallRuleType}
	for i := 0; i < len(f); i++ {
		opt := f[i]
		if i+1 >= len(f) {
			return nil, fmt.Errorf("option %s needs a value", opt)
		}
		i++
		val := f[i]
		switch opt {
		case "-a", "-A":
			if opt == "-A" {
				r.Type = rule.PrependSyscallRuleType
			}
			for _, p := range strings.Split(val, ",") {
				switch p {
				case "task", "exit", "user", "exclude":
					r.List = p
				case "never", "always":
					r.Action = p
				default:
					return nil, fmt.Errorf("invalid list or action %q", p)
				}
			}
		case "-S":
			for _, s := range strings.Split(val, ",") {
				r.Syscalls = append(r.Syscalls, strings.TrimSpace(s))
			}
		case "-F":
			m := valueFilterRE.FindStringSubmatch(val)
			if m == nil {
				return nil, fmt.Errorf("invalid filter %q", val)
			}
			r.Filters = append(r.Filters, rule.FilterSpec{Type: rule.ValueFilterType, LHS: m[1], Comparator: m[2], RHS: m[3]})
		case "-C":
			m := fieldCompareRE.FindStringSubmatch(val)
			if m == nil {
				return nil, fmt.Errorf("invalid comparison %q", val)
			}
			r.Filters = append(r.Filters, rule.FilterSpec{Type: rule.InterFieldFilterType, LHS: m[1], Comparator: m[2], RHS: m[3]})
		case "-k":
			r.Keys = append(r.Keys, val)
		default:
			return nil, fmt.Errorf("unsupported option %s", opt)
		}
	}
	if r.List == "" || r.Action == "" {
		return nil, fmt.Errorf("rule needs -a list,action")
	}
	return r, nil
}

var (
	valueFilterRE  = regexp.MustCompile(`^(\w+)\s*(<=|>=|&=|=|!=|<|>|&)(\S+)$`)
	fieldCompareRE = regexp.MustCompile(`^(\w+)\s*(!?=)(\w+)$`)
)
