package headless

import (
	"slices"
	"testing"
)

func TestPendingChanges(t *testing.T) {
	a, b, c := serviceKey{"ns", "a"}, serviceKey{"ns", "b"}, serviceKey{"ns", "c"}
	p := newPendingChanges()
	p.mark(a, 0)
	p.mark(b, 7)
	if p.publishedUpToBarrier() {
		t.Fatal("complete with two Services unpublished")
	}
	seq, triggers := p.take(b)
	p.mark(b, 8) // arrives while b is rebuilt
	p.published(b, seq)
	if !slices.Equal(triggers, []int64{7}) {
		t.Errorf("triggers %v, want [7]", triggers)
	}
	seqA, _ := p.take(a)
	p.published(a, seqA)
	// b's newest change came after the barrier: complete without it.
	if !p.publishedUpToBarrier() {
		t.Error("not complete though every change up to the barrier is published")
	}
	p.mark(c, 0)
	if !p.publishedUpToBarrier() {
		t.Error("complete turned false")
	}
}

func TestPendingChangesBeforeBarrier(t *testing.T) {
	a := serviceKey{"ns", "a"}
	p := newPendingChanges()
	p.mark(a, 0)
	seq, _ := p.take(a)
	p.mark(a, 0) // before the barrier, during the rebuild
	p.published(a, seq)
	if p.publishedUpToBarrier() {
		t.Error("complete while a change before the barrier is unpublished")
	}
	seq, _ = p.take(a)
	p.published(a, seq)
	if !p.publishedUpToBarrier() {
		t.Error("not complete after publishing it")
	}
}
