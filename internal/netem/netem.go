// Package netem emulates a wide-area link for benchmarks: a TCP listener on
// 127.0.0.1 that forwards every connection to a target address, delaying
// each direction by half a round trip and, optionally, squeezing the
// client-to-server bytes of all connections through one capped uplink.
//
// Loopback makes connections, handshakes and bytes free; behind a Link
// they cost what they cost on a real network, so a client that re-dials
// or sends more bytes is slower for it. What it does not emulate: packet
// loss, TCP slow start on fresh connections (so it flatters a client that
// opens many), and a cap on the downlink.
package netem

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// UplinkBurst is how many bytes a capped uplink passes back to back
	// before its rate applies: the small bucket of a traffic shaper, about
	// eleven full-size TCP segments.
	UplinkBurst = 16 << 10
	// UplinkQueue is the bottleneck buffer of a capped uplink, in time:
	// a connection whose bytes would wait longer than this to go out is
	// not read until they would not, so its sender's socket fills and its
	// writes block, as behind a real bottleneck.
	UplinkQueue = 100 * time.Millisecond

	chunkSize = 16 << 10 // one read; a TLS record at most, so the cap's granularity stays fine
	// queueChunks bounds what one direction of one connection holds in
	// flight (1 MiB): far above a bandwidth-delay product at these
	// round trips, so the delay never limits throughput.
	queueChunks = 64
	dialTimeout = 5 * time.Second
)

// Config describes the emulated link.
type Config struct {
	// RTT is the round trip the link adds. Every byte reaches the other
	// side RTT/2 after it was sent, in each direction; and as after a TCP
	// handshake, a connection's first byte reaches the server no sooner
	// than 1.5 RTT after the client connected.
	RTT time.Duration
	// Uplink caps the client-to-server bytes per second of all
	// connections together (a shared link, with UplinkBurst and
	// UplinkQueue); 0 leaves it unlimited.
	Uplink int64
}

// Stats counts what a Link carried since it started.
type Stats struct {
	Conns int64 // connections accepted
	Up    int64 // client-to-server bytes delivered, handshakes included
	Down  int64 // server-to-client bytes delivered
}

// Link is a running link emulator; Close it when done.
type Link struct {
	cfg    Config
	target string
	ln     net.Listener
	up     *shaper // nil when the uplink is unlimited
	done   chan struct{}

	conns, upBytes, downBytes atomic.Int64

	mu     sync.Mutex
	closed bool
	open   map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// Listen starts a link on a random port of 127.0.0.1 that forwards to
// target ("127.0.0.1:8443"). It fails on a negative RTT or uplink, or when
// it cannot listen; a connection whose target cannot be dialled is closed.
func Listen(target string, cfg Config) (*Link, error) {
	if cfg.RTT < 0 || cfg.Uplink < 0 {
		return nil, errors.New("netem: RTT and Uplink may not be negative")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &Link{cfg: cfg, target: target, ln: ln, done: make(chan struct{}), open: make(map[net.Conn]struct{})}
	if cfg.Uplink > 0 {
		l.up = &shaper{rate: float64(cfg.Uplink), burst: bytesTime(UplinkBurst, float64(cfg.Uplink))}
	}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

// Addr is the address clients connect to, such as "127.0.0.1:41234".
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Stats reports what the link carried so far; bytes count once delivered
// to the other side.
func (l *Link) Stats() Stats {
	return Stats{Conns: l.conns.Load(), Up: l.upBytes.Load(), Down: l.downBytes.Load()}
}

// Close stops accepting, cuts every open connection, bytes still in
// flight included, and returns once all of the link's goroutines ended.
// Calling it again does nothing.
func (l *Link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	err := l.ln.Close()
	for c := range l.open {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return err
}

// track registers c for Close; false, with c closed, once the link closed.
func (l *Link) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return false
	}
	l.open[c] = struct{}{}
	return true
}

func (l *Link) untrack(cs ...net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range cs {
		delete(l.open, c)
		c.Close()
	}
}

func (l *Link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return // closed
		}
		l.conns.Add(1)
		if !l.track(c) {
			return
		}
		l.wg.Add(1)
		go l.serve(c, time.Now())
	}
}

// serve forwards one connection both ways until both directions ended.
func (l *Link) serve(client net.Conn, accepted time.Time) {
	defer l.wg.Done()
	server, err := net.DialTimeout("tcp", l.target, dialTimeout)
	if err != nil || !l.track(server) {
		l.untrack(client)
		return
	}
	oneWay := l.cfg.RTT / 2
	var dirs sync.WaitGroup
	dirs.Add(2)
	go func() {
		defer dirs.Done()
		// The handshake: the client could send nothing before its SYN had
		// come back, one round trip after it connected.
		first := accepted.Add(l.cfg.RTT)
		l.pipe(server, client, &l.upBytes, func(now time.Time, n int) time.Time {
			out := later(now, first)
			if l.up != nil {
				out = l.up.admit(out, n)
			}
			return out.Add(oneWay)
		})
	}()
	go func() {
		defer dirs.Done()
		l.pipe(client, server, &l.downBytes, func(now time.Time, _ int) time.Time { return now.Add(oneWay) })
	}()
	dirs.Wait()
	l.untrack(client, server)
}

// chunk is bytes read from one side and due at the other at due.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe carries src's bytes to dst, each read stamped with the time
// arrive gives it and written once that time has come, so a byte is held
// for the delay without slowing the bytes behind it. A clean end of src
// half-closes dst after the last byte; a failure on either side cuts both.
func (l *Link) pipe(dst, src net.Conn, count *atomic.Int64, arrive func(now time.Time, n int) time.Time) {
	q := make(chan chunk, queueChunks)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		l.deliver(dst, src, q, count)
	}()
	defer func() { <-wrote }()
	defer close(q)
	buf := make([]byte, chunkSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c := chunk{b: append([]byte(nil), buf[:n]...), due: arrive(time.Now(), n)}
			// A full bottleneck buffer: read no more until this chunk is
			// within UplinkQueue of leaving (never the case downlink,
			// whose chunks leave at once).
			if l.up != nil && !l.sleepUntil(c.due.Add(-l.cfg.RTT/2-UplinkQueue)) {
				return
			}
			select {
			case q <- c:
			case <-l.done:
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
				src.Close()
			}
			return
		}
	}
}

// deliver writes q's chunks to dst when due; after the last it
// half-closes dst, and on a failed write it cuts both sides and discards
// the rest.
func (l *Link) deliver(dst, src net.Conn, q <-chan chunk, count *atomic.Int64) {
	ok := true
	for c := range q {
		if ok = l.sleepUntil(c.due); !ok {
			break
		}
		// Counted before the write, so the bytes are counted by the time
		// the other side can answer them.
		count.Add(int64(len(c.b)))
		n, err := dst.Write(c.b)
		if ok = err == nil; !ok {
			count.Add(int64(n - len(c.b)))
			break
		}
	}
	if ok {
		if tc, isTCP := dst.(*net.TCPConn); isTCP {
			_ = tc.CloseWrite()
		}
		return
	}
	dst.Close()
	src.Close()
	for range q {
	}
}

// sleepUntil waits for t; false if the link closed first.
func (l *Link) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-l.done:
			return false
		default:
			return true
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-l.done:
		return false
	}
}

// shaper is the shared uplink: a token bucket of UplinkBurst bytes
// refilled at rate, kept as the time its queue drains (GCRA).
type shaper struct {
	mu    sync.Mutex
	rate  float64       // bytes per second
	burst time.Duration // UplinkBurst at rate
	drain time.Time     // when the bytes admitted so far are all out
}

// admit queues n bytes ready at t and returns when their last byte is on
// the wire.
func (s *shaper) admit(t time.Time, n int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain = later(s.drain, t).Add(bytesTime(n, s.rate))
	return later(t, s.drain.Add(-s.burst))
}

func bytesTime(n int, rate float64) time.Duration {
	return time.Duration(float64(n) / rate * float64(time.Second))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
