package librato_test

import (
	"context"
	"testing"
	"time"

	librato "github.com/librato-sdk/librato-go"
	"github.com/librato-sdk/librato-go/internal/netem"
	"github.com/librato-sdk/librato-go/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSteadyLoadReusesConnections: a Batcher on the client's default
// transport, across a link with a real round trip, opens no more
// connections than its largest window, however many bursts it sends: the
// idle pool keeps every connection the window used. (With an idle pool
// smaller than the window, each burst re-dials the difference.) Nothing
// is lost or recorded twice.
func TestSteadyLoadReusesConnections(t *testing.T) {
	srv := mock.NewServer()
	defer srv.Close()
	link, err := netem.Listen(srv.URL()[len("http://"):], netem.Config{RTT: 10 * time.Millisecond})
	require.NoError(t, err)
	defer link.Close()
	email, token := srv.Credentials(librato.RoleRecordOnly)
	c, err := librato.NewClient(email, token, librato.WithBaseURL("http://"+link.Addr()), librato.WithRole(librato.RoleRecordOnly))
	require.NoError(t, err)
	defer c.CloseIdleConnections()

	b, err := c.Measurements.NewBatcher(librato.BatcherOptions{BatchSize: 50, FlushInterval: time.Hour})
	require.NoError(t, err)
	ctx := context.Background()
	const bursts, perBurst = 4, 64 * 50
	t0 := time.Now().Unix() - 3600
	for burst := 0; burst < bursts; burst++ {
		for i := 0; i < perBurst; i++ {
			m := librato.Measurement{Name: "reuse", Value: 1, Time: t0 + int64(burst*perBurst+i), Tags: map[string]string{"host": "a"}}
			require.NoError(t, addMeasurementE2E(b, m))
		}
		require.NoError(t, b.Flush(ctx))
	}
	require.NoError(t, b.Close(ctx))
	st := b.Stats()
	assert.Equal(t, int64(bursts*perBurst), st.Sent)
	assert.LessOrEqual(t, link.Stats().Conns, int64(st.PeakConcurrency), "connections opened <= the largest window")
	assert.Equal(t, librato.DefaultMaxConcurrency, st.PeakConcurrency, "the bursts filled the window")

	seen := map[int64]int{}
	for _, m := range srv.Recorded() {
		seen[m.Time]++
	}
	assert.Len(t, seen, bursts*perBurst, "every measurement was recorded")
	for tm, n := range seen {
		if n != 1 {
			t.Fatalf("the measurement at %d was recorded %d times", tm, n)
		}
	}
}

// addMeasurementE2E is the one call site of Batcher.Add in this file.
func addMeasurementE2E(b *librato.Batcher, m librato.Measurement) error {
	return b.Add(context.Background(), m)
}
