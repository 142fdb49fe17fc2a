package netem

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkNoLeak fails t if goroutines started during the test outlive it
// (its cleanups included).
func checkNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-base, buf[:runtime.Stack(buf, true)])
		}
	})
}

// echoTarget starts a TCP server on loopback that answers each connection
// with f and closes it; it stops with the test.
func echoTarget(t *testing.T, f func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); f(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func echo(c net.Conn) { _, _ = io.Copy(c, c) }

func listen(t *testing.T, target string, cfg Config) *Link {
	l, err := Listen(target, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// roundTrip writes p to c and reads as many bytes back.
func roundTrip(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	_, err := c.Write(p)
	require.NoError(t, err)
	got := make([]byte, len(p))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, p, got)
}

func TestDelayEachWayAndHandshake(t *testing.T) {
	checkNoLeak(t)
	const rtt = 40 * time.Millisecond
	l := listen(t, echoTarget(t, echo), Config{RTT: rtt})
	start := time.Now()
	c, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, []byte("ping"))
	// one round trip for the TCP handshake the link stands for, one for
	// the exchange
	assert.GreaterOrEqual(t, time.Since(start), 2*rtt, "first exchange on a fresh connection")
	again := time.Now()
	roundTrip(t, c, []byte("pong"))
	assert.GreaterOrEqual(t, time.Since(again), rtt, "an exchange on an open connection")
}

func TestCountsConnectionsAndBytesAndPassesHalfClose(t *testing.T) {
	checkNoLeak(t)
	l := listen(t, echoTarget(t, echo), Config{RTT: 2 * time.Millisecond})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes: several chunks
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", l.Addr())
		require.NoError(t, err)
		_, err = c.Write(payload)
		require.NoError(t, err)
		// The end of the client's data reaches the echo server, which
		// then ends its answer: the half-close went through both ways.
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
		got, err := io.ReadAll(c)
		require.NoError(t, err)
		require.Equal(t, payload, got)
		c.Close()
	}
	assert.Equal(t, Stats{Conns: 3, Up: 3 * int64(len(payload)), Down: 3 * int64(len(payload))}, l.Stats())
}

func TestUplinkCapIsSharedByAllConnections(t *testing.T) {
	checkNoLeak(t)
	const (
		rate  = 1 << 20 // bytes per second
		conns = 4
		each  = 64 << 10
	)
	// The target answers one byte once it has a connection's bytes.
	l := listen(t, echoTarget(t, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, each)); err == nil {
			_, _ = c.Write([]byte{1})
		}
	}), Config{Uplink: rate})
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", l.Addr())
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			_, err = c.Write(make([]byte, each))
			assert.NoError(t, err)
			_, err = io.ReadFull(c, make([]byte, 1))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	// One connection alone would need (each-UplinkBurst)/rate, 47 ms;
	// sharing the link, all of them need four times the bytes' worth.
	total := conns * each
	assert.GreaterOrEqual(t, time.Since(start), bytesTime(total-UplinkBurst, rate))
	assert.Equal(t, int64(total), l.Stats().Up)
}

func TestCloseCutsConnectionsWithBytesInFlight(t *testing.T) {
	checkNoLeak(t)
	l, err := Listen(echoTarget(t, echo), Config{RTT: time.Hour, Uplink: 1000})
	require.NoError(t, err)
	c, err := net.Dial("tcp", l.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(make([]byte, 40<<10)) // more than the uplink queue holds: the reader waits
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond) // let the link read what it will
	require.NoError(t, l.Close())
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.Error(t, err, "the client's connection ends with the link")
	assert.Zero(t, l.Stats().Up, "nothing was due before the link closed")
	_, err = net.Dial("tcp", l.Addr())
	assert.Error(t, err, "a closed link accepts nothing")
	assert.NoError(t, l.Close(), "a second Close does nothing")
}

func TestSelfSignedServesTLSForLoopback(t *testing.T) {
	checkNoLeak(t)
	cert, pemBytes, err := SelfSigned()
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ts.StartTLS()
	defer ts.Close()
	l := listen(t, ts.Listener.Addr().String(), Config{})
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pemBytes))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + l.Addr() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1", string(body), "the test server speaks HTTP/1.1 even to a client that would take HTTP/2")

	_, err = (&http.Client{Transport: &http.Transport{}}).Get("https://" + l.Addr() + "/")
	assert.ErrorContains(t, err, "certificate", "a client that does not trust it refuses it")
}
