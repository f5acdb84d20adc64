// Command farmd keeps one Twitch account in the chat of a list of streamers
// exactly while they are live: it polls the Helix API with an app token and
// JOINs or PARTs their channels over Twitch IRC.
//
//	farmd --config streamers.yaml   run the daemon
//	farmd --config FILE --check     validate FILE without network traffic
//	farmd --demo                    run against an embedded simulated Twitch
//
// Exit codes: 0 clean shutdown, 1 fatal runtime error (IRC login rejected,
// token invalid), 2 configuration or usage error.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), processEnv()))
}
