package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/farmd/farmd/config"
)

// healthcheck GETs the running daemon's /healthz at the configured
// http.listen and returns 0 when it answers 200, else 1: a Docker
// HEALTHCHECK for an image with no shell or curl. Docker reserves exit code
// 2, so every failure, a bad config included, is 1.
func healthcheck(path string, env environment) int {
	cfg, _, err := config.Load(path, env.getenv)
	if err != nil {
		fmt.Fprintf(env.stderr, "healthcheck: %s: %v\n", path, err)
		return exitFatal
	}
	if cfg.HTTP.Listen == "" {
		fmt.Fprintf(env.stderr, "healthcheck: http.listen is not set in %s; the health endpoint is off\n", path)
		return exitFatal
	}
	url := "http://" + localAddr(cfg.HTTP.Listen) + "/healthz"
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(env.stderr, "healthcheck: %v\n", err)
		return exitFatal
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(env.stdout, "%s", body)
	if resp.StatusCode != http.StatusOK {
		return exitFatal
	}
	return exitOK
}

// localAddr turns a listen address into one to connect to on this host: an
// empty or unspecified host (":9180", "0.0.0.0:9180", "[::]:9180") becomes
// loopback.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
