package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// monitor builds the per-second series and prints the progress line.
type monitor struct {
	r      *runner
	series []Point
	sec    *hdrhistogram.Histogram // scratch for one second
	// counters at the previous series tick
	lastSent, lastAnswered int64
}

func newMonitor(r *runner) *monitor { return &monitor{r: r, sec: newHist()} }

func (m *monitor) loop() {
	second := time.NewTicker(time.Second)
	defer second.Stop()
	var progress <-chan time.Time
	if m.r.opt.Progress != nil {
		t := time.NewTicker(m.r.opt.ProgressEvery)
		defer t.Stop()
		progress = t.C
	}
	for {
		select {
		case <-second.C:
			m.tick(time.Second)
		case <-progress:
			m.printProgress()
		case <-m.r.closing:
			if m.r.opt.Progress != nil {
				m.printProgress()
				fmt.Fprintln(m.r.opt.Progress)
			}
			return
		}
	}
}

// tick appends one series point covering the last span (a second, or
// less for the final partial one).
func (m *monitor) tick(span time.Duration) {
	m.sec.Reset()
	var answered int64
	for _, c := range m.r.conns {
		answered += c.rec.takeSecond(m.sec)
	}
	sent := m.r.sent.Load()
	p := Point{
		T:        len(m.series),
		Sent:     sent - m.lastSent,
		Answered: answered - m.lastAnswered,
		P50:      usToMS(m.sec.ValueAtQuantile(50)),
		P99:      usToMS(m.sec.ValueAtQuantile(99)),
		Max:      usToMS(m.sec.Max()),
		Seconds:  span.Seconds(),
	}
	m.lastSent, m.lastAnswered = sent, answered
	m.series = append(m.series, p)
}

// finish adds the last partial second, so that the series sums to the totals.
func (m *monitor) finish(end int64) {
	span := time.Duration(end) - time.Duration(len(m.series))*time.Second
	if span > 0 || m.r.sent.Load() != m.lastSent {
		m.tick(max(span, 0))
	}
}

func (m *monitor) printProgress() {
	r := m.r
	t := r.merge(false)
	elapsed := time.Duration(r.now())
	sent := r.sent.Load() + r.warmSent.Load()
	rate := float64(sent) / max(elapsed.Seconds(), 1e-9)
	line := fmt.Sprintf("%s  sent %d  answered %d  %.0f/s  p50 %s  p99 %s  errors %d",
		elapsed.Truncate(100*time.Millisecond), sent, t.answered, rate,
		fmtMS(usToMS(t.hist.ValueAtQuantile(50))), fmtMS(usToMS(t.hist.ValueAtQuantile(99))),
		t.errors+t.timeouts+r.sendErrs.Load())
	if total := r.expectedTotal(); total > 0 {
		line = progressBar(float64(sent)/float64(total)) + " " + line
	}
	fmt.Fprintf(r.opt.Progress, "\r%s\x1b[K", line)
}

// expectedTotal is the number of requests the run will send when known
// in advance (a Count, or a Rate with a Duration); 0 otherwise.
func (r *runner) expectedTotal() int64 {
	switch {
	case r.opt.Count > 0:
		return int64(r.opt.Count)
	case r.opt.Rate > 0 && r.opt.Duration > 0:
		return int64(r.opt.Rate * r.opt.Duration.Seconds())
	}
	return 0
}

const barWidth = 20

func progressBar(frac float64) string {
	frac = min(max(frac, 0), 1)
	n := int(frac * barWidth)
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", barWidth-n), frac*100)
}

func usToMS(us int64) float64 { return float64(us) / 1000 }

func fmtMS(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.3fms", ms)
}
