package switchd

import "github.com/cardswitch/cardswitch/switch/issuer"

// healthOf is issuer name's availability (issuer.Health), made on first
// use and kept for the switch's life: a reload that rebuilds the issuer,
// or keeps some of its links, finds the same one, offline or not.
func (s *Switch) healthOf(name string) *issuer.Health {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if s.health == nil {
		s.health = make(map[string]*issuer.Health)
	}
	h := s.health[name]
	if h == nil {
		h = issuer.NewHealth(func(offline bool, timeouts int64) { s.logOffline(name, offline, timeouts) })
		s.health[name] = h
	}
	return h
}

// logOffline logs an issuer going offline or coming back.
func (s *Switch) logOffline(name string, offline bool, timeouts int64) {
	if offline {
		s.log.Warn("issuer offline: consecutive timeouts; its requests are decided at once until it answers",
			"issuer", name, "timeouts", timeouts)
		return
	}
	s.log.Info("issuer back online", "issuer", name)
}

// issuerOffline reports whether issuer name is offline now.
func (s *Switch) issuerOffline(name string) bool {
	s.healthMu.Lock()
	h := s.health[name]
	s.healthMu.Unlock()
	return h.Offline()
}
