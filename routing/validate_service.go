package routing

import (
	"errors"

	"github.com/cardswitch/cardswitch/internal/keyfile"
)

func (v *validator) admin(raw rawAdmin) Admin {
	if raw.Address != "" {
		if err := checkHostPort(raw.Address, false); err != nil {
			v.add("admin.address", "%q: %v", raw.Address, err)
		}
	}
	return Admin{Address: raw.Address}
}

func (v *validator) journal(raw rawJournal) Journal {
	_, def, _ := ServiceDefaults()
	j := Journal{
		Path:            raw.Path,
		DuplicateWindow: v.duration("journal.duplicate_window", "", raw.DuplicateWindow, def.DuplicateWindow, true),
		Retention:       v.duration("journal.retention", "", raw.Retention, 0, false),
		Sync:            raw.Sync,
		KeyFile:         raw.KeyFile,
	}
	v.keyFile(raw.KeyFile)
	switch j.Sync {
	case "":
		j.Sync = def.Sync
	case "normal", "full":
	default:
		v.add("journal.sync", "%q: want normal or full", raw.Sync)
	}
	if j.Retention > 0 && j.Retention < j.DuplicateWindow {
		v.add("journal.retention", "%s is shorter than duplicate_window %s: duplicates could not be detected after a restart",
			j.Retention, j.DuplicateWindow)
	}
	return j
}

// keyFile reports a set journal.key_file that cannot be read or does not
// hold keys in its format (keyfile.Rule), naming the file and the line.
func (v *validator) keyFile(path string) {
	if path == "" {
		return
	}
	if msg := unreadable(path); msg != "" {
		v.add("journal.key_file", "%q: %s", path, msg)
		return
	}
	if _, err := keyfile.Load(path); err != nil {
		var ke *keyfile.Error
		if errors.As(err, &ke) && ke.Line > 0 {
			v.add("journal.key_file", "%q: line %d: %s", path, ke.Line, ke.Rule)
			return
		}
		if errors.As(err, &ke) {
			v.add("journal.key_file", "%q: %s", path, ke.Rule)
			return
		}
		v.add("journal.key_file", "%q: %v", path, err)
	}
}

func (v *validator) reversals(raw rawReversals) Reversals {
	_, _, def := ServiceDefaults()
	r := Reversals{
		RetryMin: v.duration("reversals.retry_min", "", raw.RetryMin, def.RetryMin, true),
		RetryMax: v.duration("reversals.retry_max", "", raw.RetryMax, def.RetryMax, true),
	}
	if r.RetryMin > r.RetryMax {
		v.add("reversals", "retry_min %s is above retry_max %s", r.RetryMin, r.RetryMax)
	}
	return r
}
