package journal

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkStoredMessages measures a stored message's life: stored
// (sealed) in batches of 64, as a mass timeout stores them, then
// acknowledged (its row deleted) one by one, as the issuer's 0430s come
// back, with secure_delete FAST (the journal's setting) against OFF and
// ON, to show what zeroing the deleted rows costs.
func BenchmarkStoredMessages(b *testing.B) {
	frame := bytes.Repeat([]byte("0420"), 60) // ~240 bytes, a typical 0420
	for _, mode := range []string{"FAST", "OFF", "ON"} {
		b.Run("secure_delete="+mode, func(b *testing.B) {
			j, _ := openTemp(b, Options{})
			if _, err := j.wdb.Exec(fmt.Sprintf("PRAGMA secure_delete = %s", mode)); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			rs := make([]*Reversal, 64)
			b.ResetTimer()
			for done := 0; done < b.N; done += len(rs) {
				for i := range rs {
					rs[i] = &Reversal{Issuer: "bank-a", STAN: "000001", Frame: frame, Created: time.Now()}
				}
				if err := j.AddReversals(ctx, rs); err != nil {
					b.Fatal(err)
				}
				for _, r := range rs {
					if err := j.ReversalAcked(r.ID, "00"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
