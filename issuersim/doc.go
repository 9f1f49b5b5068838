// Package issuersim is a simulated issuer: the card-holder's bank that the
// switch reaches over persistent TCP issuer links. It runs in-process under
// `cardswitch serve` (the embedded demo), standalone under
// `cardswitch issuer-sim`, and inside tests and load tests.
//
// # Answers
//
//   - 0800 (any field 70: 001 sign-on, 002 sign-off, 301 echo) is answered
//     0810 with 39 = 00 and 7, 11, 70 echoed.
//   - 0100 and 0200 are decided by the first matching rule, else by
//     DeclineAbove (51), else approved (00 plus a 6-character approval code
//     in 38). A request with a non-numeric amount that no rule matches is
//     declined 13 (invalid amount). The PAN is field 2, or the digits of
//     track 2 (35) before the separator when 2 is absent.
//   - 0400 and 0420 (reversals) and their repeats 0401 and 0421 are
//     answered 00 (a repeat as its first attempt: 0410, 0430), except that
//     with ReversalDrop = N the first N attempts of each distinct reversal
//     (by field 90, else STAN and RRN) go unanswered, to exercise retries.
//     Every attempt is recorded with its MTI and fields (Sim.Reversals).
//     Advices (0120, such as a switch's stand-in advices) and their
//     repeats (0121) are acknowledged the same way (0130).
//   - Latency delays every answer (0810 and reversals included); a
//     rule's Delay adds to it.
//   - Responses carry MTI + 10 and echo every request field except the
//     sensitive ones (35, 45, 52, 53, 55).
//   - Any other MTI is counted as Unsupported and not answered.
//   - Frames that do not unpack are logged (field id only) and counted as
//     Unparseable; the connection stays open.
//
// # Malformed answers
//
// A rule with Malformed set answers with the normal response, packed, then
// cut short by up to three bytes taken only from the fields after field 11
// (the cut never reaches 11). The result parses up to and including the
// STAN, so a switch can match it to its request, but a full unpack fails
// because the last field is incomplete.
//
// # Concurrency
//
// Each connection has one read goroutine, which unpacks, decides and packs,
// and one write goroutine, which writes queued frames into a buffered writer
// and flushes only when the queue is empty, so bursts share a syscall.
// Delayed answers (Latency or a rule's Delay) use time.AfterFunc; Close
// cancels those still pending and waits for every goroutine.
package issuersim
