package issuersim

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/cardswitch/cardswitch/config"
)

// Group runs the simulators a config asks for (its simulators: section)
// beside the switch, in the `serve` process: a demo or a test needs no
// bank, and the switch itself knows nothing of simulators.
type Group struct {
	sims   []*Sim
	served sync.WaitGroup // one per Serve goroutine
}

// StartGroup binds every simulator of cfgs and serves them. On an error
// none is left running. A nil log discards everything.
func StartGroup(cfgs []config.Simulator, log *slog.Logger) (*Group, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Group{}
	for _, sc := range cfgs {
		sim, err := New(sc, log)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("simulator %s: %w", sc.Name, err)
		}
		g.sims = append(g.sims, sim)
	}
	for _, sim := range g.sims {
		g.served.Add(1)
		go func() {
			defer g.served.Done()
			if err := sim.Serve(); err != nil {
				log.Error("simulator stopped", "addr", sim.Addr(), "err", err)
			}
		}()
	}
	return g, nil
}

// Sims are the running simulators, in config order.
func (g *Group) Sims() []*Sim { return g.sims }

// Close stops every simulator and waits until each has stopped serving.
func (g *Group) Close() {
	for _, sim := range g.sims {
		_ = sim.Close()
	}
	g.served.Wait()
}

// State is a simulator as the admin listener shows it.
type State struct {
	Name   string `json:"name"`
	Listen string `json:"listen"` // the bound address
	State  string `json:"state"`  // "up" or "down"
}

func stateOf(s *Sim) State {
	st := State{Name: s.Name(), Listen: s.Addr(), State: "up"}
	if s.Down() {
		st.State = "down"
	}
	return st
}

// SimulatorStates lists every simulator with its state, in config order
// (admin GET /admin/simulators).
func (g *Group) SimulatorStates() any {
	out := make([]State, 0, len(g.sims))
	for _, s := range g.sims {
		out = append(out, stateOf(s))
	}
	return out
}

// SetSimulatorDown takes the simulator called name down or brings it up
// (admin POST /admin/simulators/{name}/down or /up) and returns its
// state; found is false when no simulator has that name (config
// validation keeps names unique).
func (g *Group) SetSimulatorDown(name string, down bool) (state any, found bool) {
	for _, s := range g.sims {
		if name != "" && s.Name() == name {
			s.SetDown(down)
			return stateOf(s), true
		}
	}
	return nil, false
}
