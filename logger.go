package headless

import (
	"fmt"
	"strings"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/go-logr/logr"
)

var log = clog.NewWithPlugin(pluginName)

// klogSink routes client-go's klog output through CoreDNS's logger: errors
// as errors, verbosity 0 as info, and anything more verbose as debug.
type klogSink struct {
	name   string
	values []any
}

// Init implements logr.LogSink.
func (klogSink) Init(logr.RuntimeInfo) {}

// Enabled implements logr.LogSink: verbosity 0 always, more verbose lines
// only while CoreDNS logs debug lines (the debug plugin), so that the rest
// are not formatted only to be dropped.
func (klogSink) Enabled(level int) bool { return level <= 0 || clog.D.Value() }

// Info implements logr.LogSink.
func (s klogSink) Info(level int, msg string, kv ...any) {
	if level > 0 {
		log.Debug(s.format(msg, kv))
		return
	}
	log.Info(s.format(msg, kv))
}

// Error implements logr.LogSink.
func (s klogSink) Error(err error, msg string, kv ...any) {
	log.Error(s.format(msg, append(kv, "err", err)))
}

// WithValues implements logr.LogSink.
func (s klogSink) WithValues(kv ...any) logr.LogSink {
	s.values = append(append([]any(nil), s.values...), kv...)
	return s
}

// WithName implements logr.LogSink.
func (s klogSink) WithName(name string) logr.LogSink {
	if s.name != "" {
		name = s.name + "/" + name
	}
	s.name = name
	return s
}

func (s klogSink) format(msg string, kv []any) string {
	var b strings.Builder
	if s.name != "" {
		b.WriteString(s.name + ": ")
	}
	b.WriteString(msg)
	for _, pairs := range [][]any{s.values, kv} {
		for i := 0; i+1 < len(pairs); i += 2 {
			fmt.Fprintf(&b, " %v=%v", pairs[i], pairs[i+1])
		}
	}
	return b.String()
}

// describeSlices names slices and their resource versions, for a debug log.
func describeSlices(from []*endpointSlice) string {
	var b strings.Builder
	for i, s := range from {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s@%s(%d)", s.name, s.resourceVersion, s.len())
	}
	return b.String()
}

func endpointCount(r *serviceRecords) int {
	if r == nil {
		return 0
	}
	return len(r.endpoints)
}
