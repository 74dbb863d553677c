package headless

import (
	"fmt"
	stdlog "log"
	"os"
	"strings"
	"testing"
	"time"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
)

// client-go's lines from headless's informers say plugin/headless even when
// another plugin (kubernetes) set klog's global logger after headless.
func TestInformerLogsAreOurs(t *testing.T) {
	var buf syncBuffer
	stdlog.SetOutput(&buf)
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr) })
	klog.SetLogger(logr.Discard()) // what another plugin's setup might do
	t.Cleanup(func() { klog.SetLogger(logr.New(klogSink{})) })

	client := fake.NewClientset()
	failLists(client, "endpointslices")
	startHeadless(t, client, []string{"cluster.local."}, 10*time.Millisecond)
	eventually(t, func() error {
		for line := range strings.SplitSeq(buf.String(), "\n") {
			if strings.Contains(line, "the API server is away") && strings.Contains(line, "plugin/headless") {
				return nil
			}
		}
		return fmt.Errorf("no plugin/headless line about the failed list in %q", buf.String())
	})
}

// Verbose client-go lines are formatted only while debug logging is on.
func TestKlogSinkLevels(t *testing.T) {
	var buf syncBuffer
	stdlog.SetOutput(&buf)
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr) })
	logger := logr.New(klogSink{name: "reflector"})

	formatted := false
	lazy := stringerFunc(func() string { formatted = true; return "v" })
	logger.V(4).Info("watch event", "object", lazy)
	if formatted || buf.String() != "" {
		t.Errorf("a V(4) line was formatted or written with debug off: %q", buf.String())
	}
	logger.Info("list done", "items", 3)
	if !strings.Contains(buf.String(), "[INFO] plugin/headless: reflector: list done items=3") {
		t.Errorf("V(0) line: %q", buf.String())
	}

	clog.D.Set()
	t.Cleanup(clog.D.Clear)
	logger.V(4).Info("watch event", "object", lazy)
	if !formatted || !strings.Contains(buf.String(), "[DEBUG] plugin/headless: reflector: watch event object=v") {
		t.Errorf("a V(4) line with debug on: %q", buf.String())
	}
}

type stringerFunc func() string

func (f stringerFunc) String() string { return f() }
