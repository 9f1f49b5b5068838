// Package specs holds the ISO 8583 message specifications as JSON files,
// embedded into the binary so that a switch needs no files at run time.
// The iso package loads them with moov-io's specs.ImportJSON.
package specs

import "embed"

// FS holds every *.json spec in this directory.
//
//go:embed *.json
var FS embed.FS
