// Package status holds the status page's files (GET /status, its script
// and style, the login form), embedded in the binary so that the page
// needs nothing beyond the switch: no CDN, no external font.
package status

import "embed"

// Files are the page's files, served by the admin listener.
//
//go:embed *.html *.js *.css
var Files embed.FS
