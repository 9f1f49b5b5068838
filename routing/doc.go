// Package routing holds cardswitch's configuration model (read from YAML with
// viper), its validation, and the BIN table that maps a card number to an
// issuer. It knows nothing about sockets or ISO 8583 messages: the switch
// hands it ASCII PAN digits and gets back an issuer index.
package routing
