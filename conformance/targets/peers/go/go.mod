module github.com/blackbull/conformance/peers/go

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	golang.org/x/net v0.62.0
)

require golang.org/x/text v0.43.0 // indirect
