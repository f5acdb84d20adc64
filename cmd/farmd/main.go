// Command farmd keeps one Twitch account in the chat of a list of streamers
// exactly while they are live: it learns who is live from Helix polls and
// EventSub, and JOINs or PARTs their channels over Twitch IRC.
//
//	farmd --config config.yaml          run the daemon
//	farmd login --config config.yaml    log the chat account in (once)
//	farmd --config FILE --check         validate FILE without network traffic
//	farmd notify-test --config FILE     send a test notification to every URL
//	farmd --demo                        run against an embedded simulated Twitch
//
// Exit codes: 0 clean shutdown, 1 fatal runtime error (a token refused for
// good), 2 configuration or usage error. farmd --help says more.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), processEnv()))
}
