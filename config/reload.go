package config

import "reflect"

// RestartNeeded returns the paths ("twitch.client_id", "irc.tls") of the
// settings that differ between old and new but apply only at start: a
// SIGHUP applies the others (see Reloaded) and keeps these as they were.
// A list counts as one setting.
func RestartNeeded(old, new *Config) []string {
	var changed []string
	restartOnly(schema, reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), "", &changed)
	return changed
}

// Reloaded returns the configuration a SIGHUP runs with: running, with
// every setting that a reload applies taken from loaded.
func Reloaded(running, loaded *Config) *Config {
	c := *running
	reloadable(schema, reflect.ValueOf(&c).Elem(), reflect.ValueOf(loaded).Elem())
	return &c
}

// restartOnly appends to changed the paths of the restart-only values of
// mapping f that differ between the structs o and n.
func restartOnly(f *field, o, n reflect.Value, path string, changed *[]string) {
	for _, k := range f.keys {
		if k.reload {
			continue
		}
		ov, nv, kpath := o.Field(k.index), n.Field(k.index), join(path, k.name)
		switch {
		case k.keys != nil:
			restartOnly(k, ov, nv, kpath, changed)
		case !reflect.DeepEqual(ov.Interface(), nv.Interface()),
			k.auto >= 0 && o.Field(k.auto).Bool() != n.Field(k.auto).Bool():
			*changed = append(*changed, kpath)
		}
	}
}

// reloadable copies the values of mapping f that a reload applies from
// the struct from into the struct to.
func reloadable(f *field, to, from reflect.Value) {
	for _, k := range f.keys {
		switch {
		case k.reload:
			// A whole mapping, or a value with the fields it sets besides
			// itself (poll.interval's AutoInterval).
			to.Field(k.index).Set(from.Field(k.index))
			if k.auto >= 0 {
				to.Field(k.auto).Set(from.Field(k.auto))
			}
		case k.keys != nil:
			reloadable(k, to.Field(k.index), from.Field(k.index))
		}
	}
}
