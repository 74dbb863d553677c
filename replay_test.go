package headless

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	discovery "k8s.io/api/discovery/v1"
)

// TestReplayRecordedSlices replays the slice events of one Service that
// the e2e checker recorded from a real cluster (make e2e-scale with
// E2E_RECORD_SLICES set to a directory) through the model, rebuilding after
// each event and after each run of a few, as the watcher's queue batches
// them, and checks every published record set and the PTR index against a
// fresh build. HEADLESS_REPLAY names the recording; without it the test is
// skipped. It is how a difference seen in a cluster is brought to a unit
// test.
func TestReplayRecordedSlices(t *testing.T) {
	path := os.Getenv("HEADLESS_REPLAY")
	if path == "" {
		t.Skip("HEADLESS_REPLAY names no recording of slice events")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []struct {
		Deleted bool
		Slice   *discovery.EndpointSlice
	}
	for dec := json.NewDecoder(f); ; {
		var e struct {
			Deleted bool
			Slice   *discovery.EndpointSlice
		}
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if len(events) == 0 {
		t.Fatal("no events recorded")
	}
	svc := reducedService(events[0].Slice.Namespace, events[0].Slice.Labels[discovery.LabelServiceName])
	for _, batch := range []int{1, 3, 7} {
		m := newModel(true)
		held := map[string]*endpointSlice{}
		counts := map[string]int{}
		for i, e := range events {
			if e.Deleted {
				delete(held, e.Slice.Name)
			} else {
				held[e.Slice.Name] = reduceSlice(e.Slice, reduceOptions{})
			}
			if (i+1)%batch != 0 && i != len(events)-1 {
				continue
			}
			from := slices.SortedFunc(maps.Values(held), func(a, b *endpointSlice) int { return strings.Compare(a.name, b.name) })
			counts[publishChecked(t, m, svc, from)]++
			if t.Failed() {
				t.Fatalf("batches of %d, event %d (slice %s, resource version %s)", batch, i, e.Slice.Name, e.Slice.ResourceVersion)
			}
		}
		t.Logf("batches of %d: %d events, rebuilds %v", batch, len(events), counts)
	}
}
