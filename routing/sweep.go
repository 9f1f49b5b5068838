package routing

import (
	"cmp"
	"slices"
)

// buildLevel sweeps the rules of one bin length from low to high over every
// point where a rule starts or ends, keeping the rules that cover the
// current point in a heap ordered by width; the heap's top is the winner.
func (t *Table) buildLevel(n int, ids []int32) level {
	byStart := slices.Clone(ids)
	slices.SortFunc(byStart, func(a, b int32) int { return cmp.Compare(t.ranges[a].lo, t.ranges[b].lo) })
	points := make([]uint64, 0, 2*len(ids))
	for _, id := range ids {
		points = append(points, t.ranges[id].lo, t.ranges[id].hi+1)
	}
	slices.Sort(points)
	points = slices.Compact(points)

	lv := level{n: n}
	h := widthHeap{t: t}
	next := 0
	for k, p := range points {
		for next < len(byStart) && t.ranges[byStart[next]].lo <= p {
			h.push(byStart[next])
			next++
		}
		for len(h.ids) > 0 && t.ranges[h.ids[0]].hi < p {
			h.pop()
		}
		if len(h.ids) == 0 || k+1 == len(points) {
			continue
		}
		lv.add(p, points[k+1]-1, h.ids[0])
	}
	return lv
}

// add appends a segment, merging it into the previous one when they touch
// and share the winner.
func (lv *level) add(start, end uint64, rule int32) {
	last := len(lv.rules) - 1
	if last >= 0 && lv.rules[last] == rule && lv.ends[last]+1 == start {
		lv.ends[last] = end
		return
	}
	lv.starts = append(lv.starts, start)
	lv.ends = append(lv.ends, end)
	lv.rules = append(lv.rules, rule)
}

// widthHeap is a min-heap of rule ids by (width, route index). Written out
// rather than via container/heap to avoid boxing every id in an interface.
type widthHeap struct {
	t   *Table
	ids []int32
}

func (h *widthHeap) less(i, j int) bool {
	a, b := h.ids[i], h.ids[j]
	wa, wb := h.t.ranges[a].width(), h.t.ranges[b].width()
	return wa < wb || (wa == wb && a < b)
}

func (h *widthHeap) push(id int32) {
	h.ids = append(h.ids, id)
	for i := len(h.ids) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.ids[i], h.ids[parent] = h.ids[parent], h.ids[i]
		i = parent
	}
}

func (h *widthHeap) pop() {
	last := len(h.ids) - 1
	h.ids[0] = h.ids[last]
	h.ids = h.ids[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < last && h.less(l, small) {
			small = l
		}
		if r < last && h.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		h.ids[i], h.ids[small] = h.ids[small], h.ids[i]
		i = small
	}
}
