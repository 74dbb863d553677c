//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// proxySync is one kube-proxy sync of its rules, from its log.
type proxySync struct {
	start, end time.Time
	family     string
}

// syncLine is the line kube-proxy (--v=2) logs at the end of each sync:
// "I1201 05:32:47.692443   23971 proxier.go:662] "SyncProxyRules
// complete" ipFamily="IPv4" elapsed="5.43834196s"".
var syncLine = regexp.MustCompile(`^I(\d{4} \d\d:\d\d:\d\d\.\d+) .*"SyncProxyRules complete" ipFamily="(\w+)" elapsed="([^"]+)"`)

// proxySyncs returns kube-proxy's syncs that ended in [from, to].
func proxySyncs(from, to time.Time) []proxySync {
	data, err := os.ReadFile(filepath.Join(cpDir, "kube-proxy.log"))
	if err != nil {
		return nil
	}
	var out []proxySync
	for line := range strings.Lines(string(data)) {
		m := syncLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// klog's time has no year, and is local.
		end, err := time.ParseInLocation("2006 0102 15:04:05.000000", fmt.Sprintf("%d %s", from.Year(), m[1]), time.Local)
		elapsed, err2 := time.ParseDuration(m[3])
		if err != nil || err2 != nil || end.Before(from) || end.After(to) {
			continue
		}
		out = append(out, proxySync{start: end.Add(-elapsed), end: end, family: m[2]})
	}
	return out
}

// summary says how many syncs there were, how long the middle one took
// and the longest.
func syncSummary(syncs []proxySync) string {
	if len(syncs) == 0 {
		return "kube-proxy: no syncs"
	}
	took := make([]time.Duration, len(syncs))
	for i, s := range syncs {
		took[i] = s.end.Sub(s.start)
	}
	slices.Sort(took)
	return fmt.Sprintf("kube-proxy: %d syncs, p50 %s, longest %s", len(syncs),
		took[len(took)/2].Round(10*time.Millisecond), took[len(took)-1].Round(10*time.Millisecond))
}

// caughtUp returns when the first sync of family that began after at
// ended: when kube-proxy's rules (and its conntrack clean-up) took in a
// change the API made at at. It is zero when none did.
func caughtUp(syncs []proxySync, family string, at time.Time) time.Time {
	for _, s := range syncs {
		if s.family == family && s.start.After(at) {
			return s.end
		}
	}
	return time.Time{}
}
