// Package switchd is the cardswitch switch itself: the acquirer listener and
// connections, the relay of requests to issuer links, and the switch's own
// answers (their codes: iso.SwitchCodes).
//
// The directory is called switch/ as the project layout requires, but
// "switch" is a Go keyword and cannot name a package, hence switchd
// (switch daemon). Import it as
//
//	switchd "github.com/cardswitch/cardswitch/switch"
//
// # Life of a request
//
//  1. acquirer.go:readLoop reads a frame; scan_ahead.go:scanned scans it.
//  2. request.go:handle classifies it; screen.go:screened screens it (30).
//  3. request.go:relay routes it by BIN (15).
//  4. request.go:limit applies identity and in-flight/rate caps (58, 65, 91).
//  5. request.go:original finds the original an acquirer's reversal names
//     in 90 among the requests relayed (25 when none), and the link STAN
//     its 90 must carry; dup.go:check refuses a retransmission (94).
//  6. request.go:send hands the request to issuer.Issuer.Send (or 91);
//     inflight.go:Record notes its link STAN in its duplicate slot.
//  7. response.go:Answer, Fail, Late, Unmatched take what the link reports;
//     response.go:refuse is the switch's own answer.
//  8. response.go:finish journals the outcome and queues the answer.
package switchd
