package librato

import (
	"context"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

func TestSmokeGetMetric(t *testing.T) {
	c, mt := newMockClient(t)
	mt.RegisterResponder("GET", testBase+"/v1/metrics/cpu.load", httpmock.NewStringResponder(200, `{"name":"cpu.load","type":"gauge","period":60}`))
	m, err := c.Metrics.Get(context.Background(), "cpu.load")
	require.NoError(t, err)
	require.Equal(t, "cpu.load", m.Name)
	require.Equal(t, 60, *m.Period)
}
