package headless

import (
	"slices"
	"testing"
)

func TestSliceIndex(t *testing.T) {
	slice := func(svc, name, rv string) *endpointSlice {
		return &endpointSlice{objectMeta: objectMeta{name: name, namespace: "ns", resourceVersion: rv}, service: svc}
	}
	names := func(ss []*endpointSlice) []string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			out = append(out, s.name+"@"+s.resourceVersion)
		}
		return out
	}
	headless, other := make(sliceIndex), make(sliceIndex)

	headless.put(slice("web", "web-b", "10"))
	headless.put(slice("web", "web-a", "11"))
	headless.put(slice("db", "db-a", "12"))
	headless.put(slice("web", "web-b", "13")) // an update replaces
	// web-a moves to the other watch: the other informer adds it before
	// this one deletes it, so both hold it for a while.
	other.put(slice("web", "web-a", "9"))
	other.put(slice("web", "web-a", "14"))

	for _, tc := range []struct {
		key  serviceKey
		want []string
	}{
		{serviceKey{"ns", "web"}, []string{"web-a@14", "web-b@13"}},
		{serviceKey{"ns", "db"}, []string{"db-a@12"}},
		{serviceKey{"ns", "none"}, nil},
	} {
		if got := names(merged(tc.key, headless, other)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.key, got, tc.want)
		}
	}

	headless.remove(slice("web", "web-a", "11"))
	headless.remove(slice("db", "db-a", "12"))
	headless.remove(slice("db", "db-a", "12")) // twice is harmless
	if got := names(merged(serviceKey{"ns", "web"}, headless, other)); !slices.Equal(got, []string{"web-a@14", "web-b@13"}) {
		t.Errorf("after the move: got %v", got)
	}
	if _, ok := headless[serviceKey{"ns", "db"}]; ok {
		t.Errorf("an empty Service stays in the index")
	}
	if compareVersions("9", "10") >= 0 || compareVersions("b", "a") <= 0 {
		t.Errorf("compareVersions: numbers must compare as numbers, others as strings")
	}
}
