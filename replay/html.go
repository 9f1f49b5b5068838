package replay

import (
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
)

// Chart geometry (SVG user units).
const (
	chartW, chartH = 800, 240
	padL, padR     = 60, 20
	padT, padB     = 20, 30
)

type series struct {
	Name, Color string
	Points      string // SVG polyline points
	LegendX     int
}

type chart struct {
	Title, Unit string
	YMax        float64
	Series      []series
	XTicks      []tick
	YTicks      []tick
}

type tick struct {
	Pos   float64
	Label string
}

// WriteHTML writes a self-contained page (inline SVG, no scripts, no
// external resources) with the latency-over-time and throughput charts.
func (rep *Report) WriteHTML(w io.Writer) error {
	data := struct {
		R       *Report
		Summary string
		Charts  []chart
	}{R: rep}
	var sb strings.Builder
	_ = rep.WriteSummary(&sb)
	data.Summary = sb.String()
	pts := rep.Series
	data.Charts = []chart{
		newChart("Latency over time", "ms", pts,
			series{Name: "p50", Color: "#1f77b4"}, func(p Point) float64 { return p.P50 },
			series{Name: "p99", Color: "#d62728"}, func(p Point) float64 { return p.P99 },
			series{Name: "max", Color: "#999999"}, func(p Point) float64 { return p.Max }),
		newChart("Throughput", "per second", pts,
			series{Name: "sent", Color: "#2ca02c"}, func(p Point) float64 { return perSecond(p, p.Sent) },
			series{Name: "answered", Color: "#ff7f0e"}, func(p Point) float64 { return perSecond(p, p.Answered) }),
	}
	return pageTmpl.Execute(w, data)
}

func perSecond(p Point, n int64) float64 {
	if p.Seconds <= 0 {
		return 0
	}
	return float64(n) / p.Seconds
}

// newChart takes (series, value function) pairs.
func newChart(title, unit string, pts []Point, pairs ...any) chart {
	c := chart{Title: title, Unit: unit}
	var vals [][]float64
	for i := 0; i+1 < len(pairs); i += 2 {
		f := pairs[i+1].(func(Point) float64)
		v := make([]float64, len(pts))
		for j, p := range pts {
			v[j] = f(p)
			c.YMax = max(c.YMax, v[j])
		}
		vals = append(vals, v)
		c.Series = append(c.Series, pairs[i].(series))
	}
	if c.YMax <= 0 {
		c.YMax = 1
	}
	c.YMax *= 1.05
	xMax := float64(max(len(pts)-1, 1))
	x := func(i int) float64 { return padL + float64(i)/xMax*(chartW-padL-padR) }
	y := func(v float64) float64 { return chartH - padB - v/c.YMax*(chartH-padT-padB) }
	for s, v := range vals {
		var b strings.Builder
		for i, val := range v {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(val))
		}
		c.Series[s].Points = b.String()
		c.Series[s].LegendX = padL + 10 + 80*s
	}
	for i := 0; i <= 4; i++ {
		v := c.YMax * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: fmt.Sprintf("%.3g", v)})
	}
	step := max(len(pts)/10, 1)
	for i := 0; i < len(pts); i += step {
		c.XTicks = append(c.XTicks, tick{Pos: x(i), Label: fmt.Sprintf("%ds", pts[i].T)})
	}
	return c
}

var pageTmpl = htmltemplate.Must(htmltemplate.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>cardswitch replay: {{.R.Target}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
pre{background:#f6f6f6;padding:1em}
svg{background:#fff;border:1px solid #ddd;margin-bottom:1.5em}
.axis{stroke:#888;stroke-width:1}.grid{stroke:#eee;stroke-width:1}
text{font-size:11px;fill:#444}
</style></head><body>
<h1>cardswitch replay</h1>
<pre>{{.Summary}}</pre>
{{range .Charts}}
<h2>{{.Title}} ({{.Unit}})</h2>
<svg class="chart" width="800" height="240" viewBox="0 0 800 240" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{{.Title}}">
{{range .YTicks}}<line class="grid" x1="60" x2="780" y1="{{.Pos}}" y2="{{.Pos}}"/><text x="55" y="{{.Pos}}" text-anchor="end">{{.Label}}</text>
{{end}}<line class="axis" x1="60" x2="60" y1="20" y2="210"/><line class="axis" x1="60" x2="780" y1="210" y2="210"/>
{{range .XTicks}}<text x="{{.Pos}}" y="225" text-anchor="middle">{{.Label}}</text>
{{end}}{{range $i, $s := .Series}}<polyline fill="none" stroke="{{$s.Color}}" stroke-width="1.5" points="{{$s.Points}}"/>
<text x="{{$s.LegendX}}" y="14" style="fill:{{$s.Color}}">{{$s.Name}}</text>
{{end}}</svg>
{{end}}
</body></html>
`))
