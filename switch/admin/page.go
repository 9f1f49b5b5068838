package admin

import (
	"bytes"
	"io/fs"
	"net/http"

	"github.com/cardswitch/cardswitch/switch/admin/status"
)

// statusCSP confines the status page to its own origin: its script,
// style and data come from this listener, nothing runs inline, and no
// other site may frame it.
const statusCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

// pageFile is one embedded file of the status page, read once at start.
type pageFile struct {
	body        []byte
	contentType string
}

// statusPage holds the page's files. index has two forms: with a token
// configured it shows the sign-out button, which means nothing without one.
type statusPage struct {
	index, indexSignedIn pageFile
	assets               map[string]pageFile // by URL path
}

// logoutHidden is the marker that hides the sign-out form in index.html.
var logoutHidden = []byte(`id="logout-form" hidden`)

func loadStatusPage() (*statusPage, error) {
	read := func(name, ctype string) (pageFile, error) {
		b, err := fs.ReadFile(status.Files, name)
		return pageFile{body: b, contentType: ctype}, err
	}
	p := &statusPage{assets: map[string]pageFile{}}
	var err error
	if p.index, err = read("index.html", "text/html; charset=utf-8"); err != nil {
		return nil, err
	}
	p.indexSignedIn = pageFile{contentType: p.index.contentType,
		body: bytes.Replace(p.index.body, logoutHidden, []byte(`id="logout-form"`), 1)}
	for name, ctype := range map[string]string{
		"app.js":    "text/javascript; charset=utf-8",
		"style.css": "text/css; charset=utf-8",
	} {
		f, err := read(name, ctype)
		if err != nil {
			return nil, err
		}
		p.assets["/status/"+name] = f
	}
	return p, nil
}

// pageRoutes adds the page and its static files to mux. The files are
// embedded, so a failure to read them is a broken build: the paths then
// answer 404 rather than the listener refusing to start.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	page, err := loadStatusPage()
	if err != nil {
		s.log.Error("admin: status page files missing from the build", "err", err)
		return
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		f := page.index
		if s.policy.Load().token {
			f = page.indexSignedIn
		}
		writePageFile(w, f)
	})
	for path, f := range page.assets {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) { writePageFile(w, f) })
	}
}

// writePageFile writes one file of the page with the headers that keep
// it from being cached (it shows live state, and a new build changes it),
// sniffed into another type, framed, or leaking its URL.
func writePageFile(w http.ResponseWriter, f pageFile) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.body)
}
