package librato

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// round answers every request of one window with success, as one round
// trip would, and returns the window after it.
func round(c *controller, now time.Time, backlog bool) int {
	for n := c.allowed(); n > 0; n-- {
		c.onSuccess(now, backlog)
	}
	return c.allowed()
}

func TestControllerSlowStartThenAdditive(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := newController(1, 64, 2)
	require.Equal(t, 2, c.allowed())

	// Slow start: the window doubles each round trip while batches wait.
	var seen []int
	for i := 0; i < 4; i++ {
		seen = append(seen, round(&c, t0.Add(time.Duration(i)*time.Second), true))
	}
	assert.Equal(t, []int{4, 8, 16, 32}, seen)
	assert.Equal(t, 32, c.peak)

	// Without a backlog the window is not the bottleneck: no growth.
	assert.Equal(t, 32, round(&c, t0.Add(5*time.Second), false))

	// A 429 halves it; then it grows by one per round trip.
	c.onCongestion(t0.Add(6*time.Second), t0.Add(5*time.Second), 0)
	assert.Equal(t, 16, c.allowed())
	assert.Equal(t, 17, round(&c, t0.Add(7*time.Second), true))
	assert.Equal(t, 18, round(&c, t0.Add(8*time.Second), true))
	assert.Equal(t, 32, c.peak, "the peak stays the highest window so far")
}

func TestControllerHalvesOncePerEpisode(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := newController(1, 64, 32)
	// Thirty-two requests sent under the window of 32 all fail: one cut.
	for i := 0; i < 32; i++ {
		c.onCongestion(t0.Add(time.Second+time.Duration(i)*time.Millisecond), t0, 0)
	}
	assert.Equal(t, 16, c.allowed(), "failures of requests sent before the cut are the same episode")
	// A request sent after the cut that fails is a new episode.
	c.onCongestion(t0.Add(3*time.Second), t0.Add(2*time.Second), 0)
	assert.Equal(t, 8, c.allowed())
}

func TestControllerBounds(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := newController(1, 5, 2)
	for i := 0; i < 10; i++ {
		round(&c, t0, true)
	}
	assert.Equal(t, 5, c.allowed(), "never above the maximum")
	assert.Equal(t, 5, c.peak)
	for i := 0; i < 10; i++ {
		at := t0.Add(time.Duration(i+1) * time.Second)
		c.onCongestion(at, at, 0)
	}
	assert.Equal(t, 1, c.allowed(), "never below one")
	assert.Equal(t, 1, round(&c, t0.Add(time.Minute), false))

	pinned := newController(3, 3, 3)
	round(&pinned, t0, true)
	pinned.onCongestion(t0.Add(time.Second), t0.Add(time.Second), 0)
	assert.Equal(t, 3, pinned.allowed(), "an explicit Concurrency pins the window")

	odd := newController(0, 0, 9)
	assert.Equal(t, 1, odd.allowed(), "bounds below one are one")
}

func TestControllerRetryAfterHolds(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := newController(1, 64, 16)
	c.onCongestion(t0, t0.Add(-time.Millisecond), 2*time.Second)
	assert.Equal(t, t0.Add(2*time.Second), c.holdUntil)
	assert.Equal(t, 8, c.allowed())
	// A shorter Retry-After later does not shorten the hold.
	c.onCongestion(t0.Add(time.Millisecond), t0.Add(-time.Millisecond), time.Second)
	assert.Equal(t, t0.Add(2*time.Second), c.holdUntil)
	assert.Equal(t, 8, c.allowed(), "same episode")
	// Successes during the hold do not grow the window; after it they do.
	assert.Equal(t, 8, round(&c, t0.Add(time.Second), true))
	assert.Greater(t, round(&c, t0.Add(3*time.Second), true), 8)
	// After a cut the window grows additively: ssthresh is the halved one.
	assert.Equal(t, 9, c.allowed())
}
