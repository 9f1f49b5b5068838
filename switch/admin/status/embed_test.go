package status

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxTotal is the bound on the page: it must load at once over a
// slow VPN from the on-call engineer's laptop.
const maxTotal = 150 << 10

// The page is small and self-contained: the embedded files stay under
// 150 KB together, and none names an absolute URL (a CDN, a web font, an
// analytics script), which the CSP would block anyway and which would
// leak that someone opened the page.
func TestEmbeddedPageSmallAndSelfContained(t *testing.T) {
	absolute := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|https?:`)
	total := 0
	names := map[string]bool{}
	require.NoError(t, fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files, path)
		if err != nil {
			return err
		}
		total += len(b)
		names[path] = true
		assert.Empty(t, absolute.FindAllString(string(b), -1), "%s references another origin", path)
		return nil
	}))
	for _, want := range []string{"index.html", "app.js", "style.css", "login.html"} {
		assert.True(t, names[want], "%s embedded", want)
	}
	assert.Less(t, total, maxTotal, "embedded page size in bytes")
	t.Logf("embedded status page: %d bytes in %d files", total, len(names))
}

// The page inserts data only as text: app.js never assigns innerHTML or
// outerHTML nor calls insertAdjacentHTML or document.write, except the
// one constant SVG skeleton it parses (no data in it), and index.html has
// no inline script or style, which the page's CSP would refuse.
func TestEmbeddedPageInsertsTextOnly(t *testing.T) {
	js, err := fs.ReadFile(Files, "app.js")
	require.NoError(t, err)
	html := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function`)
	hits := html.FindAllIndex(js, -1)
	require.Len(t, hits, 1, "only the constant SVG skeleton is parsed as markup")
	assert.Equal(t, "svgTpl.innerHTML = '<svg", string(js[hits[0][0]-7:hits[0][1]+8]))
	for _, name := range []string{"index.html", "login.html"} {
		b, err := fs.ReadFile(Files, name)
		require.NoError(t, err)
		assert.NotRegexp(t, `<script>|<script [^>]*>[^<]|<style|style="|\son[a-z]+="`, string(b), name)
	}
}
