package record

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/moov-io/iso8583"
)

// entry is one recorded request awaiting its response.
type entry struct {
	msg     *iso8583.Message
	at      time.Duration // since the first request
	arrived time.Time
	expect  string
	done    bool
}

// journal writes entries in request order: an entry is written once it
// and every entry before it are done (answered, abandoned or too old), so
// "t" never goes backwards in the output.
type journal struct {
	mu    sync.Mutex
	out   io.Writer
	note  string // the dialect, noted before the first line
	w     *trace.Writer
	log   *slog.Logger
	wait  time.Duration
	start time.Time
	queue []*entry
	err   error // first write error; recording stops, proxying goes on
	count int   // lines written
}

func newJournal(out io.Writer, dialect string, log *slog.Logger, wait time.Duration) *journal {
	return &journal{out: out, note: dialect, w: trace.NewWriter(out), log: log, wait: wait}
}

// add queues a request read at now.
func (j *journal) add(msg *iso8583.Message, now time.Time) *entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.start.IsZero() {
		j.start = now
	}
	e := &entry{msg: msg, at: now.Sub(j.start), arrived: now}
	j.queue = append(j.queue, e)
	j.expire(now)
	j.flush()
	return e
}

// resolve marks e done with the response code ("" when none came).
func (j *journal) resolve(e *entry, code string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.done, e.expect = true, code
	j.flush()
}

// closeAll marks every entry done and writes everything; it returns the
// first write error.
func (j *journal) closeAll() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.queue {
		e.done = true
	}
	j.flush()
	return j.err
}

// expire gives up on the head entries older than the wait.
func (j *journal) expire(now time.Time) {
	for _, e := range j.queue {
		if e.done || now.Sub(e.arrived) < j.wait {
			return
		}
		e.done = true
	}
}

func (j *journal) flush() {
	n := 0
	for _, e := range j.queue {
		if !e.done {
			break
		}
		n++
		if j.err != nil {
			continue
		}
		if err := j.write(e); err != nil {
			j.err = err
			j.log.Error("recording stopped: cannot write the trace", "err", err)
			continue
		}
		j.count++
	}
	clear(j.queue[:n])
	j.queue = j.queue[n:]
}

// written returns the number of lines written so far.
func (j *journal) written() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.count
}

// write writes e's line, after the dialect note when it is the first.
func (j *journal) write(e *entry) error {
	if j.note != "" {
		if err := trace.WriteDialectNote(j.out, j.note); err != nil {
			return err
		}
		j.note = ""
	}
	return j.w.Write(e.msg, e.at, e.expect)
}
