package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	events := recordedEvents(t, path)
	svc := reducedService(events[0].Slice.Namespace, events[0].Slice.Labels[discovery.LabelServiceName])
	// Batches of 1, 3 and 7 events, then of random sizes up to 20.
	for run := range 40 {
		rng := rand.New(rand.NewPCG(uint64(run), 7))
		next := func() int { return []int{1, 3, 7}[run%3] }
		if run >= 3 {
			next = func() int { return 1 + rng.IntN(20) }
		}
		m := newModel(true)
		held := map[string]*endpointSlice{}
		counts := map[string]int{}
		batch := next()
		for i, e := range events {
			if e.Deleted {
				delete(held, e.Slice.Name)
			} else {
				held[e.Slice.Name] = reduceSlice(e.Slice, reduceOptions{})
			}
			if batch--; batch > 0 && i != len(events)-1 {
				continue
			}
			batch = next()
			from := slices.SortedFunc(maps.Values(held), func(a, b *endpointSlice) int { return strings.Compare(a.name, b.name) })
			counts[publishChecked(t, m, svc, from)]++
			if t.Failed() {
				t.Fatalf("run %d, event %d (slice %s, resource version %s)", run, i, e.Slice.Name, e.Slice.ResourceVersion)
			}
		}
		if run < 4 {
			t.Logf("run %d: %d events, rebuilds %v", run, len(events), counts)
		}
	}
}

// recordedEvent is one slice event of a recording (E2E_RECORD_SLICES).
type recordedEvent struct {
	Deleted bool
	Slice   *discovery.EndpointSlice
}

// recordedEvents reads the recording at path.
func recordedEvents(t *testing.T, path string) []recordedEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []recordedEvent
	for dec := json.NewDecoder(f); ; {
		var e recordedEvent
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
	return events
}

// TestReplayThroughInformers sends the recorded slice events through the
// fake clientset to a running Headless, as fast as they go, so that the
// informers, the queue and the workers batch them as they will, and checks
// the model against a fresh build of the slices every 100 events and at
// the end. Like TestReplayRecordedSlices, it needs HEADLESS_REPLAY.
func TestReplayThroughInformers(t *testing.T) {
	path := os.Getenv("HEADLESS_REPLAY")
	if path == "" {
		t.Skip("HEADLESS_REPLAY names no recording of slice events")
	}
	events := recordedEvents(t, path)
	ns, name := events[0].Slice.Namespace, events[0].Slice.Labels[discovery.LabelServiceName]
	h, client := informedHeadless(t, []runtime.Object{headlessService(ns, name)})
	api := client.DiscoveryV1().EndpointSlices(ns)
	held := map[string]*discovery.EndpointSlice{}
	everyAddress := recordedAddresses(events)
	settled := func(at int) {
		t.Helper()
		eventually(t, func() error {
			current := make([]*endpointSlice, 0, len(held))
			for _, s := range held {
				current = append(current, reduceSlice(s, reduceOptions{}))
			}
			slices.SortFunc(current, func(a, b *endpointSlice) int { return strings.Compare(a.name, b.name) })
			got := h.model.service(serviceKey{ns, name})
			svc := reducedService(ns, name)
			if got != nil {
				svc.created = got.created
			}
			want := buildRecords(svc, current)
			if (got == nil) != (want == nil) || (got != nil && (!reflect.DeepEqual(view(got), view(want)) || !slices.Equal(got.v4, want.v4) || !slices.Equal(got.v6, want.v6))) {
				return fmt.Errorf("after event %d: serving\n%v\nthe slices hold\n%v", at, got, want)
			}
			// And what the API's slices say, read as the e2e checker reads
			// them: the addresses of ready endpoints.
			var api, served []string
			for _, s := range held {
				for _, e := range s.Endpoints {
					if e.Conditions.Ready == nil || *e.Conditions.Ready {
						api = append(api, e.Addresses...)
					}
				}
			}
			if got != nil {
				for _, v := range view(got) {
					served = append(served, v.addrs...)
				}
			}
			slices.Sort(api)
			slices.Sort(served)
			if api, served = slices.Compact(api), slices.Compact(served); !slices.Equal(api, served) {
				return fmt.Errorf("after event %d: serving %d addresses %v, the API's slices %d %v", at, len(served), served, len(api), api)
			}
			// The PTR index holds what one built afresh holds, for every
			// address the recording ever had.
			fresh := newModel(true)
			if want != nil {
				want.serviceID = got.serviceID
				fresh.set(svc.key(), want)
			}
			if got, want := ptrContent(h.model, everyAddress), ptrContent(fresh, everyAddress); got != want {
				return fmt.Errorf("after event %d: PTR index\n%s\nbuilt afresh\n%s", at, got, want)
			}
			return nil
		})
	}
	ctx := context.Background()
	for i, e := range events {
		s := e.Slice.DeepCopy()
		_, exists := held[s.Name]
		var err error
		switch {
		case e.Deleted:
			delete(held, s.Name)
			err = api.Delete(ctx, s.Name, metav1.DeleteOptions{})
		case exists:
			held[s.Name] = s
			_, err = api.Update(ctx, s, metav1.UpdateOptions{})
		default:
			held[s.Name] = s
			_, err = api.Create(ctx, s, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if i%100 == 99 {
			settled(i)
		}
	}
	settled(len(events))
}

// recordedAddresses returns every address the recorded slices had, sorted.
func recordedAddresses(events []recordedEvent) []string {
	var all []string
	for _, e := range events {
		for _, ep := range e.Slice.Endpoints {
			all = append(all, ep.Addresses...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// rebuildLine is a replica's debug line for one rebuild (informer.go): how,
// the Service, and the slices it read as name@resourceVersion(addresses).
var rebuildLine = regexp.MustCompile(`(built|patched) ([^/ ]+)/(\S+) from (.*): (\d+) endpoints`)

// TestReplayReplicaRebuilds replays, through the model, the rebuilds one
// replica made in a real cluster, each from the very slice versions it
// read: those its debug lines name (a replica run with the debug plugin,
// make e2e-scale with E2E_DEBUG=1), looked up in the recording of the slice
// events (HEADLESS_REPLAY). HEADLESS_REPLAY_LOG names the replica's log;
// without both the test is skipped. Each rebuild's records and the PTR
// index are checked against a fresh build.
func TestReplayReplicaRebuilds(t *testing.T) {
	path, logPath := os.Getenv("HEADLESS_REPLAY"), os.Getenv("HEADLESS_REPLAY_LOG")
	if path == "" || logPath == "" {
		t.Skip("HEADLESS_REPLAY and HEADLESS_REPLAY_LOG name no recording and replica log")
	}
	events := recordedEvents(t, path)
	ns, name := events[0].Slice.Namespace, events[0].Slice.Labels[discovery.LabelServiceName]
	versions := map[string]*endpointSlice{} // by name@resourceVersion
	for _, e := range events {
		if !e.Deleted {
			versions[e.Slice.Name+"@"+e.Slice.ResourceVersion] = reduceSlice(e.Slice, reduceOptions{})
		}
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	svc := reducedService(ns, name)
	m := newModel(true)
	counts := map[string]int{}
	for n, line := range strings.Split(string(log), "\n") {
		match := rebuildLine.FindStringSubmatch(line)
		if match == nil || match[2] != ns || match[3] != name {
			continue
		}
		fields := strings.Fields(match[4])
		from := make([]*endpointSlice, 0, len(fields))
		for _, f := range fields {
			version, _, _ := strings.Cut(f, "(")
			s := versions[version]
			if s == nil {
				t.Fatalf("line %d: slice %s is not in the recording", n+1, version)
			}
			from = append(from, s)
		}
		how := publishChecked(t, m, svc, from)
		counts[how]++
		if t.Failed() {
			t.Fatalf("line %d (%s): %s", n+1, match[1], line)
		}
		if got := endpointCount(m.service(svc.key())); strconv.Itoa(got) != match[5] {
			t.Fatalf("line %d: %d endpoints, the replica had %s", n+1, got, match[5])
		}
	}
	if len(counts) == 0 {
		t.Fatalf("no rebuild of %s/%s in %s", ns, name, logPath)
	}
	t.Logf("rebuilds %v", counts)
}
