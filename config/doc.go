// Package config is cardswitch's configuration model: the Config type and
// its sections (listen, issuers, routes, default_issuer, simulators, admin,
// journal, reversals, acquirers, memory_limit), and everything done with a
// configuration file before the switch uses it:
//
//   - load.go reads YAML with viper (Load, LoadBytes, LoadDefault, the
//     embedded default.yaml) and applies CARDSWITCH_* environment overrides;
//     fastroutes*.go read a large routes list without the decoder;
//   - raw.go mirrors the file; decode_errors.go turns decoder errors into
//     problems naming the key;
//   - defaults.go holds every default, in one place;
//   - validate*.go check each section once, report every problem naming
//     the file, the key and the rule (ValidationError), and build the BIN
//     table (package routing);
//   - diff*.go compare two configs, and diffKeys decides which changed
//     keys a reload applies and which need a restart.
//
// config imports routing, never the reverse. It opens no sockets: the files
// it reads are the config itself and those the config names (TLS files,
// admin token, journal key file), to report a bad path at load.
package config
