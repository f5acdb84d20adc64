package helix

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/farmd/farmd/helix/helixtest"
)

// BenchmarkPollCycleServer measures a poll cycle against a Helix fake that,
// like a real server, spends service time on each request (2 ms on 2
// workers, so concurrent requests queue) besides 20 ms of network latency,
// over TLS with HTTP/1.1 only and with HTTP/2, with New's own transport,
// at several MaxConcurrent values and at helix's default rule. Besides
// ns/op it reports conns (connections the fake accepted in all, warm-up
// included) and newconns/op (in steady state). Run with:
//
//	go test -run '^$' -bench BenchmarkPollCycleServer -benchtime 10x ./helix/
func BenchmarkPollCycleServer(b *testing.B) {
	for _, proto := range []string{"http1", "http2"} {
		for _, n := range []int{1000, 10000} {
			for _, conc := range []int{10, 32, 100, 0} {
				name := fmt.Sprint(conc)
				if conc == 0 {
					name = "default"
				}
				b.Run(fmt.Sprintf("%s/conc=%s/N=%d", proto, name, n), func(b *testing.B) {
					benchServerCycle(b, proto, n, conc)
				})
			}
		}
	}
}

func benchServerCycle(b *testing.B, proto string, n, conc int) {
	opts := helixtest.Options{RateLimit: 1 << 30, ServiceTime: 2 * time.Millisecond, Workers: 2}
	if proto == "http2" {
		opts.HTTP2 = true
	} else {
		opts.TLS = true
	}
	srv := helixtest.New(opts)
	b.Cleanup(srv.Close)
	ids := cycleIDs(srv, n)
	srv.Fail(helixtest.EndpointStreams, helixtest.Fault{Delay: 20 * time.Millisecond})
	srv.Fail(helixtest.EndpointToken, helixtest.Fault{Delay: 20 * time.Millisecond})
	c := newTLSClient(b, srv, Options{MaxConcurrent: conc})
	ctx := context.Background()
	if _, err := c.CheckStreams(ctx, ids); err != nil { // token, connections, protocol
		b.Fatalf("warm-up cycle: %v", err)
	}
	conns0 := srv.Connections()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := c.CheckStreams(ctx, ids)
		if err != nil || len(st) != n {
			b.Fatalf("cycle: %d statuses, err %v; want %d, nil", len(st), err, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Connections()), "conns")
	b.ReportMetric(float64(srv.Connections()-conns0)/float64(b.N), "newconns/op")
}
