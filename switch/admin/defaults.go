package admin

import "time"

// limits bound what one admin client can hold on to.
type limits struct {
	// readHeader is how long a client may take to send request headers
	// (slow-loris guard).
	readHeader time.Duration
	// read is how long a client may take to send the whole request.
	read time.Duration
	// write bounds a handler and its response, reload included; a reload
	// that takes longer is a bug worth a failed request.
	write time.Duration
	// idle is how long a keep-alive connection may wait for its next request.
	idle time.Duration
	// maxHeaderBytes caps the request header size.
	maxHeaderBytes int
	// reloadTimeout bounds the context given to Backend.Reload; it is below
	// write so that the error can still be written.
	reloadTimeout time.Duration
}

var defaultLimits = limits{
	readHeader:     5 * time.Second,
	read:           10 * time.Second,
	write:          60 * time.Second,
	idle:           60 * time.Second,
	maxHeaderBytes: 16 << 10,
	reloadTimeout:  50 * time.Second,
}
