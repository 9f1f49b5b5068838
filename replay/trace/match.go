package trace

import (
	"errors"
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// matchKey identifies the response a request awaits: response MTI and STAN.
type matchKey struct {
	mti, stan string
}

// responseKey is the key of the response to a request with mti and stan.
func responseKey(mti, stan string) matchKey {
	r := iso.ResponseMTI([]byte(mti))
	return matchKey{mti: string(r[:]), stan: stan}
}

func isRequest(mti string) bool { return iso.IsRequestMTI([]byte(mti)) }

// stamp is a message's source time; ok is false when the source had none.
type stamp struct {
	t  time.Time
	ok bool
}

// applyStamps sets At as the offset from the first message, when every
// message has a time; otherwise every At stays NoTiming.
func applyStamps(msgs []Message, stamps []stamp) error {
	for _, s := range stamps {
		if !s.ok {
			return nil
		}
	}
	for i := range msgs {
		d := stamps[i].t.Sub(stamps[0].t)
		if d < 0 {
			return &Error{Line: msgs[i].Line, Err: errors.New("time earlier than the first message")}
		}
		msgs[i].At = d
	}
	return nil
}
