package headless

import (
	"fmt"
	stdlog "log"
	"os"
	"strings"
	"testing"
	"time"

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
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, "the API server is away") && strings.Contains(line, "plugin/headless") {
				return nil
			}
		}
		return fmt.Errorf("no plugin/headless line about the failed list in %q", buf.String())
	})
}
