// Package admin serves the switch's admin HTTP listener: Prometheus metrics,
// liveness and readiness probes, the live routing table and config reload.
//
//	GET  /metrics        the metrics handler given to New (404 when nil)
//	GET  /healthz        200 "ok" while the process serves HTTP at all
//	GET  /readyz         200 "ready", or 503 with the reason from Backend.Ready
//	GET  /admin/routes   200 application/json: Backend.Routes()
//	POST /admin/reload   200 JSON result, 422 JSON {"error", "problems"} on
//	                     failure, 409 while another reload runs
//
// Any other method on these paths gets 405 with an Allow header. The
// listener has header, read, write and idle timeouts so that a slow or idle
// client cannot hold connections open. It has no authentication: bind it to
// loopback or a management network.
package admin
