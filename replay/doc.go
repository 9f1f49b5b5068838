// Package replay is cardswitch's load generator: it sends trace messages
// (or generated ones) to an ISO 8583 host over persistent connections,
// matches responses by STAN per connection, validates them and reports
// throughput and latency.
//
// Three pacing modes:
//   - closed loop (Concurrency requests in flight, a new one sent as each
//     completes);
//   - open loop at a fixed Rate;
//   - recorded timing (each message at its trace offset divided by Speed).
//
// In the open-loop modes latency is measured from each request's intended
// send time, not from when it actually left: when the target stalls, the
// requests scheduled during the stall are still sent as soon as possible
// and their wait counts. This corrects coordinated omission, which a
// closed-loop tester hides by simply not sending while it waits.
//
// The send path does no ISO 8583 packing: each template frame is scanned
// once, and every send copies it into the connection's write batch and
// patches STAN (11), RRN (37) and transmission date-time (7) in place.
// Responses are scanned with iso.Scanner, never unpacked.
package replay
