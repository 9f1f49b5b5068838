package switchd_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readsIssuer answers, in one write, every request it got in one read (a
// host that answers what it has read) and notes how many requests each
// read of each connection brought. It answers 0800s with 39=00.
type readsIssuer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	cond *sync.Cond
	// reads[i] is connection i's requests per read, reads with none left out.
	reads [][]int
	// stans[i] is the STANs of connection i's requests, in the order
	// they came (plain hosts only: serve).
	stans [][]int
	total int
	conns []net.Conn
	// d, when set (startReadsIssuerIn), is the dialect the host speaks.
	d *dialectIssuer
}

func startReadsIssuer(t *testing.T) *readsIssuer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	is := &readsIssuer{ln: ln}
	is.cond = sync.NewCond(&is.mu)
	is.wg.Add(1)
	go is.accept()
	t.Cleanup(is.close)
	return is
}

func (is *readsIssuer) accept() {
	defer is.wg.Done()
	for {
		c, err := is.ln.Accept()
		if err != nil {
			return
		}
		is.mu.Lock()
		i := len(is.reads)
		is.reads = append(is.reads, nil)
		is.stans = append(is.stans, nil)
		is.conns = append(is.conns, c)
		is.mu.Unlock()
		is.wg.Add(1)
		if is.d != nil {
			go is.serveIn(c, i)
			continue
		}
		go is.serve(c, i)
	}
}

// serve answers connection i read by read.
func (is *readsIssuer) serve(c net.Conn, i int) {
	defer is.wg.Done()
	spec := iso.Spec87()
	sc, _ := iso.NewScanner(spec)
	var v iso.View
	buf := make([]byte, 1<<16)
	var in []byte
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		in = append(in, buf[:n]...)
		var out []byte
		requests := 0
		for len(in) >= 2 {
			size := int(in[0])<<8 | int(in[1])
			if len(in) < 2+size {
				break
			}
			frame := in[2 : 2+size]
			resp, req := issuerAnswer(spec, frame)
			out = iso.AppendFrame(out, resp)
			if req {
				requests++
				is.noteSTAN(sc, &v, frame, i)
			}
			in = in[2+size:]
		}
		if requests > 0 {
			is.mu.Lock()
			is.reads[i] = append(is.reads[i], requests)
			is.total += requests
			is.cond.Broadcast()
			is.mu.Unlock()
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// noteSTAN notes the STAN of request frame, read on connection i.
func (is *readsIssuer) noteSTAN(sc *iso.Scanner, v *iso.View, frame []byte, i int) {
	if sc.Scan(frame, v) != nil {
		return
	}
	stan, _ := strconv.Atoi(string(v.Field(11)))
	is.mu.Lock()
	is.stans[i] = append(is.stans[i], stan)
	is.mu.Unlock()
}

// linkSTANs is the STANs each connection brought, in order.
func (is *readsIssuer) linkSTANs() [][]int {
	is.mu.Lock()
	defer is.mu.Unlock()
	out := make([][]int, len(is.stans))
	for i, s := range is.stans {
		out[i] = slices.Clone(s)
	}
	return out
}

// issuerAnswer approves frame (39=00); req: it was not network
// management.
func issuerAnswer(spec *iso8583.MessageSpec, frame []byte) (resp []byte, req bool) {
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(frame); err != nil {
		return nil, false
	}
	mti, _ := m.GetMTI()
	r := iso.ResponseMTI([]byte(mti))
	m.MTI(string(r[:]))
	_ = m.Field(39, "00")
	resp, err := m.Pack()
	if err != nil {
		return nil, false
	}
	return resp, mti[1] != '8'
}

// waitTotal waits until the issuer has had n requests and returns the
// requests per read of every connection that had any.
func (is *readsIssuer) waitTotal(t *testing.T, n int) [][]int {
	t.Helper()
	timer := time.AfterFunc(10*time.Second, func() {
		is.mu.Lock()
		is.total = -1 << 30 // give up: the assertion below names what came
		is.cond.Broadcast()
		is.mu.Unlock()
	})
	defer timer.Stop()
	is.mu.Lock()
	defer is.mu.Unlock()
	for is.total >= 0 && is.total < n {
		is.cond.Wait()
	}
	var got [][]int
	for _, r := range is.reads {
		if len(r) > 0 {
			got = append(got, slices.Clone(r))
		}
	}
	return got
}

func (is *readsIssuer) close() {
	_ = is.ln.Close()
	is.mu.Lock()
	for _, c := range is.conns {
		_ = c.Close()
	}
	is.mu.Unlock()
	is.wg.Wait()
}

// burst writes n authorizations in one write and returns how many reads
// brought their n answers.
func burst(t *testing.T, addr string, first, n int) (reads int) {
	t.Helper()
	var out []byte
	for i := range n {
		out = iso.AppendFrame(out, pack(t, auth("4111111111111111", 100, first+i)))
	}
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(out)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	var in []byte
	buf := make([]byte, 1<<16)
	for frames := 0; frames < n; {
		k, err := c.Read(buf)
		require.NoError(t, err, "%d answers of %d after %d reads", frames, n, reads)
		reads++
		in = append(in, buf[:k]...)
		for len(in) >= 2 && len(in) >= 2+(int(in[0])<<8|int(in[1])) {
			in = in[2+(int(in[0])<<8|int(in[1])):]
			frames++
		}
	}
	return reads
}

// A burst of requests an acquirer writes in one go leaves on one of the
// issuer's connections in one write (not a request per link in turn, a
// write per link), and its answers, read in one go, reach the acquirer in
// one write; a burst larger than a link takes at once (16) is cut, the
// next part on the next link.
func TestBurstLeavesInOneWriteOnOneLink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	is := startReadsIssuer(t)
	sw := opsRun(t, opsLoad(t, connectionsYAML(is.ln.Addr().String(), 4)))
	require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(4)))

	reads := burst(t, sw.addr, 1, 8)
	assert.Equal(t, [][]int{{8}}, is.waitTotal(t, 8), "8 requests read in one go: one link, one write")
	assert.Equal(t, 1, reads, "their 8 answers, read in one go, in one write")

	burst(t, sw.addr, 100, 40)
	got := is.waitTotal(t, 48)
	var parts []int
	for _, r := range got {
		parts = append(parts, r...)
	}
	slices.Sort(parts)
	assert.Equal(t, []int{8, 8, 16, 16}, parts, "40 requests: 16 on one link, 16 on the next, 8 on a third: %v", got)
}
