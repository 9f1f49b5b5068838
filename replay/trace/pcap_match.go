package trace

import (
	"fmt"
	"slices"

	"github.com/cardswitch/cardswitch/iso"
)

// responseSlot is a key for responses: their flow, MTI and STAN.
type responseSlot struct {
	flow flowKey
	key  matchKey
}

// matchFrames turns frames into the trace: requests in capture-time order
// (ties keep stream order), each expecting the code of the first response
// to it on the opposite direction of its connection.
func matchFrames(frames []frame, name string) ([]Message, error) {
	slices.SortStableFunc(frames, func(a, b frame) int { return a.ts.Compare(b.ts) })
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		return nil, err
	}
	var (
		v         iso.View
		msgs      []Message
		stamps    []stamp
		responses = map[responseSlot][]string{} // codes in capture order
		awaiting  []responseSlot                // per message
	)
	for _, f := range frames {
		// Lenient: a response with one bad field still gives its STAN and 39
		// (requests are scanned strictly below).
		_ = sc.ScanLenient(f.data, &v)
		if !v.Has(0) {
			continue // no MTI: not ISO 8583 (another protocol on the port?)
		}
		mti := string(v.MTI())
		stan := string(v.Field(11))
		if !isRequest(mti) {
			if v.Has(39) {
				slot := responseSlot{flow: f.flow, key: matchKey{mti: mti, stan: stan}}
				responses[slot] = append(responses[slot], string(v.Field(39)))
			}
			continue
		}
		if err := sc.Scan(f.data, &v); err != nil {
			return nil, &Error{Name: name, Line: f.packet, packet: true, Err: fmt.Errorf("request %s: %w", mti, err)}
		}
		msgs = append(msgs, Message{Frame: f.data, At: NoTiming, Line: f.packet})
		stamps = append(stamps, stamp{t: f.ts, ok: !f.ts.IsZero()})
		awaiting = append(awaiting, responseSlot{flow: f.flow.reverse(), key: responseKey(mti, stan)})
	}
	for i, slot := range awaiting {
		if codes := responses[slot]; len(codes) > 0 {
			msgs[i].Expect = []string{codes[0]}
			responses[slot] = codes[1:]
		}
	}
	if err := applyStamps(msgs, stamps); err != nil {
		return nil, asError(name, 0, err)
	}
	return msgs, nil
}
