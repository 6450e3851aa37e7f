// Server under test for the BlackBull conformance suite: Go net/http (HTTP/1.1, h2 over
// TLS by ALPN), golang.org/x/net/http2/h2c (HTTP/2 over cleartext, RFC 9113 §3.3) and
// github.com/coder/websocket for the WebSocket echo (RFC 6455).
//
// Contract (conformance/targets/README.md): GET and POST / answer 200 with a non-empty
// body (h2spec); a WebSocket upgrade on any path echoes text and binary messages.
//
//	bb-peer-go -host 127.0.0.1 -port 8080 [-cert server.pem -key server.key]
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/coder/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

const maxMessage = 64 << 20

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // any Origin: the suite's clients are not browsers
		CompressionMode:    websocket.CompressionContextTakeover,
	})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(maxMessage)
	ctx := context.Background()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			// coder/websocket answers the peer's Close itself (RFC 6455 §5.5.1).
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return
		}
	}
}

func handler(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		echo(w, r)
		return
	}
	// Read the whole request body before answering (POST / for h2spec).
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "hello from go net/http\n")
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 8080, "port to listen on")
	cert := flag.String("cert", "", "TLS certificate chain (PEM); with -key serves h2 + HTTP/1.1 over TLS")
	key := flag.String("key", "", "TLS private key (PEM)")
	flag.Parse()
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	log.SetFlags(0)
	if *cert != "" && *key != "" {
		srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(handler)}
		if err := http2.ConfigureServer(srv, &http2.Server{}); err != nil {
			log.Fatal(err)
		}
		log.Printf("bb-peer-go listening on %s tls=true", addr)
		log.Fatal(srv.ListenAndServeTLS(*cert, *key))
	}
	srv := &http.Server{Addr: addr, Handler: h2c.NewHandler(http.HandlerFunc(handler), &http2.Server{})}
	log.Printf("bb-peer-go listening on %s tls=false", addr)
	log.Fatal(srv.ListenAndServe())
}
