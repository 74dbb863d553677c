//go:build e2e

package e2e

import (
	"net"
	"sync"

	"github.com/miekg/dns"
)

// udpConns are one worker's UDP sockets, one per replica it asks directly.
//
// The questions straight to the replicas go to no Service, so the source
// port they come from means nothing to kube-proxy. Sent each from a new
// port, as stub resolvers send theirs, they left about 100,000 entries in
// the node's conntrack table; in a real cluster those would be spread over
// the clients' nodes. kube-proxy lists the whole table at each sync that
// follows an endpoint change, and with that many its syncs took 4 to 7 s
// on two cores, late enough for the Service to send questions to a DNS Pod
// that had exited. Reusing a socket per replica keeps the table to the
// questions through the kube-dns Service, which still come from a new port
// each, as in a cluster.
type udpConns map[string]*dns.Conn

// exchange asks server m on its socket, made the first time. A socket
// that failed is closed, and the next question to server gets a new one.
func (s udpConns) exchange(cl *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	co := s[server]
	if co == nil {
		var err error
		if co, err = cl.Dial(net.JoinHostPort(server, "53")); err != nil {
			return nil, err
		}
		s[server] = co
	}
	r, _, err := cl.ExchangeWithConn(m, co)
	if err == nil && (len(r.Question) != 1 || r.Question[0] != m.Question[0]) {
		// The late answer to an earlier question that timed out, with
		// the same ID: not the answer, so the question is asked again.
		err = dns.ErrId
	}
	if err != nil {
		co.Close()
		delete(s, server)
		return nil, err
	}
	return r, nil
}

// socketPool keeps the workers' sockets from one pass to the next.
type socketPool struct {
	mu   sync.Mutex
	free []udpConns
}

func (p *socketPool) get() udpConns {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		conns := p.free[n-1]
		p.free = p.free[:n-1]
		return conns
	}
	return udpConns{}
}

func (p *socketPool) put(conns udpConns) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, conns)
}

// close closes every socket kept.
func (p *socketPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, conns := range p.free {
		for _, co := range conns {
			co.Close()
		}
	}
	p.free = nil
}
