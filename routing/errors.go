package routing

// Problem is one bad rule found while building a table. Where names it as
// the config file does, e.g. `routes[3] (bin "4x1")` or `default_issuer`,
// so that config reports it beside its own problems unchanged.
type Problem struct {
	Where string
	Msg   string
}

func (p Problem) String() string {
	if p.Where == "" {
		return p.Msg
	}
	return p.Where + ": " + p.Msg
}
