package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeScript measures the rendered page and writes what it found into
// <pre id="probe"> as JSON: the window, the page's scroll width, and per
// chart its rendered width and the box of every line.
const probeScript = `<script>
(function () {
  var charts = [];
  document.querySelectorAll('figure svg').forEach(function (svg) {
    var lines = [];
    svg.querySelectorAll('polyline.series').forEach(function (pl) {
      var b = pl.getBoundingClientRect();
      lines.push({w: b.width, h: b.height, stroke: getComputedStyle(pl).stroke, points: pl.points.numberOfItems});
    });
    var dots = svg.querySelectorAll('circle');
    var titled = 0;
    dots.forEach(function (c) { if (c.querySelector('title') && c.querySelector('title').textContent) titled++; });
    charts.push({width: svg.getBoundingClientRect().width, lines: lines, dots: dots.length, titled: titled});
  });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({inner: window.innerWidth, scroll: document.documentElement.scrollWidth, charts: charts});
  document.body.appendChild(pre);
})();
</script>`

type probeReport struct {
	Inner  float64 `json:"inner"`
	Scroll float64 `json:"scroll"`
	Charts []struct {
		Width float64 `json:"width"`
		Lines []struct {
			W, H   float64
			Stroke string
			Points int
		} `json:"lines"`
		Dots   int `json:"dots"`
		Titled int `json:"titled"`
	} `json:"charts"`
}

// findChromium returns a headless-capable Chromium on this machine, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestPageInBrowser renders the example's page in headless Chromium at a
// desktop and a phone width: no console errors, every chart has a visible
// line, every point a hover title, and the charts fill the window without
// overflowing it.
func TestPageInBrowser(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skip("no Chromium on this machine (Debian: apt-get install chromium); the page's structure is still checked by TestRun")
	}
	noRealAccount(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "page.html")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-out", page, "-tz", "UTC"}), out.String())
	raw, err := os.ReadFile(page)
	require.NoError(t, err)
	probed := strings.Replace(string(raw), "</body>", probeScript+"\n</body>", 1)
	require.NotEqual(t, string(raw), probed, "the page has no </body>")
	probe := filepath.Join(dir, "probe.html")
	require.NoError(t, os.WriteFile(probe, []byte(probed), 0o644))

	for _, size := range []struct {
		name      string
		width     int
		perRow    int
		minShare  float64 // of the window's width, per chart
		maxCharts int
	}{
		{"desktop", 1400, 2, 0.40, 3},
		{"phone", 500, 1, 0.85, 3},
	} {
		t.Run(size.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+t.TempDir(), "--window-size="+strconv.Itoa(size.width)+",1000",
				"--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+probe)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), stderr.String())

			for _, l := range strings.Split(stderr.String(), "\n") {
				assert.NotContains(t, l, ":CONSOLE", "the page logged to the console")
			}
			m := regexp.MustCompile(`<pre id="probe">([^<]*)</pre>`).FindStringSubmatch(stdout.String())
			require.NotNil(t, m, "the probe did not run")
			var rep probeReport
			require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(m[1], "&quot;", `"`)), &rep))
			require.Len(t, rep.Charts, size.maxCharts)
			assert.LessOrEqual(t, rep.Scroll, rep.Inner, "the page overflows the window sideways")
			for i, ch := range rep.Charts {
				assert.GreaterOrEqual(t, ch.Width, size.minShare*rep.Inner, "chart %d is %v px wide in a %v px window", i, ch.Width, rep.Inner)
				assert.LessOrEqual(t, ch.Width, rep.Inner/float64(size.perRow), "chart %d: more than %d per row", i, size.perRow)
				require.NotEmpty(t, ch.Lines, "chart %d draws no line", i)
				for j, l := range ch.Lines {
					assert.Greater(t, l.W, 0.5*ch.Width, "chart %d line %d spans %v px", i, j, l.W)
					assert.Greater(t, l.Points, 1, "chart %d line %d", i, j)
					assert.NotEqual(t, "none", l.Stroke, "chart %d line %d is invisible", i, j)
				}
				assert.Positive(t, ch.Dots)
				assert.Equal(t, ch.Dots, ch.Titled, "chart %d: every point needs a hover title", i)
			}
		})
	}
}
