// Package admin serves the switch's admin HTTP listener: Prometheus metrics,
// liveness and readiness probes, the live routing table and config reload.
//
//	GET  /metrics        the metrics handler given to New (404 when nil)
//	GET  /healthz        200 "ok" while the process serves HTTP at all
//	GET  /readyz         200 "ready", or 503 with the reason from Backend.Ready
//	GET  /admin/routes   200 application/json: Backend.Routes()
//	POST /admin/reload   200 JSON result, 422 JSON {"error", "problems"} on
//	                     failure, 409 while another reload runs
//	GET  /admin/simulators              200 JSON: the in-process simulators
//	                                    (Server.SetSimulators) and their state
//	POST /admin/simulators/{name}/down  take that simulator down: 200 JSON
//	POST /admin/simulators/{name}/up    state, 404 JSON naming an unknown one
//	GET  /status                        the status page (package status,
//	GET  /status/app.js, /status/style.css  embedded), under its CSP
//	GET  /status.json                   200 JSON: Status.StatusJSON (404 JSON
//	                                    without Server.SetStatus)
//	GET  /status/transactions           200 JSON: Status.Transactions; 400 JSON
//	                                    naming a malformed filter
//	POST /status/lookup                 200 JSON: Status.Lookup of {"pan"}; 400
//	GET  /status/login                  the status page's sign-in form
//	POST /status/login                  303 to /status with a session cookie,
//	                                    401 and the form for a wrong token
//	POST /status/logout                 ends the session: 303 to the form
//
// Any other method on these paths gets 405 with an Allow header. The
// listener has header, read, write and idle timeouts so that a slow or idle
// client cannot hold connections open.
//
// Before any handler, a request is refused with 421 when its Host is not the
// listener's own address (or an Access.Hosts name), with 403 when a browser
// sent it from another site's page (Origin, Sec-Fetch-Site), and, when
// Access.Token is set, with 401 when it lacks "Authorization: Bearer
// <token>" (or a status page session cookie) on any path but /metrics,
// /healthz, /readyz and the sign-in form; the status page itself is
// redirected (303) to the form, its JSON gets a 401 JSON error. A listener
// that is not on loopback must have a token.
package admin
