package headless

import "slices"

// maxTriggers bounds the trigger times kept per Service between two
// publications; past it, further changes are published but not timed.
const maxTriggers = 32

// pendingChanges tracks the Services whose newest change is not yet
// published, so that readiness can wait for the model rather than for the
// informers' stores. Every change gets a sequence number; the barrier is the
// sequence number when every event handler had seen its initial list. The
// model is complete once no Service changed at or before the barrier awaits
// publication. The watcher's lock guards it.
type pendingChanges struct {
	seq      uint64
	changes  map[serviceKey]*pendingChange
	barrier  uint64
	fenced   bool // the barrier is set
	complete bool
}

// pendingChange is one Service's unpublished changes: the sequence numbers
// of the oldest and newest, and their trigger times (Unix nanoseconds).
type pendingChange struct {
	first, last uint64
	triggers    []int64
}

func newPendingChanges() pendingChanges {
	return pendingChanges{changes: make(map[serviceKey]*pendingChange)}
}

// mark records a change of the Service key, with its trigger time or zero.
func (p *pendingChanges) mark(key serviceKey, trigger int64) {
	p.seq++
	c := p.changes[key]
	if c == nil {
		c = &pendingChange{first: p.seq}
		p.changes[key] = c
	}
	c.last = p.seq
	if trigger != 0 && len(c.triggers) < maxTriggers && !slices.Contains(c.triggers, trigger) {
		c.triggers = append(c.triggers, trigger)
	}
}

// take is called when a rebuild of key reads the state: it returns the
// sequence number that state includes, and the trigger times to observe
// once it is published.
func (p *pendingChanges) take(key serviceKey) (seq uint64, triggers []int64) {
	c := p.changes[key]
	if c == nil {
		return 0, nil
	}
	triggers, c.triggers = c.triggers, nil
	return c.last, triggers
}

// published records that the state of key as of seq is served. Changes
// that came after seq stay pending.
func (p *pendingChanges) published(key serviceKey, seq uint64) {
	c := p.changes[key]
	switch {
	case c == nil:
	case c.last == seq:
		delete(p.changes, key)
	default:
		c.first = seq + 1
	}
}

// publishedUpToBarrier sets the barrier on its first call, which the caller
// makes once every event handler has seen its initial list, and tells
// whether every change up to it is published. Once true it stays true.
func (p *pendingChanges) publishedUpToBarrier() bool {
	if p.complete {
		return true
	}
	if !p.fenced {
		p.barrier, p.fenced = p.seq, true
	}
	for _, c := range p.changes {
		if c.first <= p.barrier {
			return false
		}
	}
	p.complete = true
	return true
}
