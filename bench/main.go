// Command bench loads a synthetic cluster into a local API server and
// measures CoreDNS against it; bench/bench.sh drives it for `make bench`.
//
//	bench load     -kubeconfig K -out DIR [-headless N] [-clusterip N] [-endpoints N]
//	bench startup  -coredns BIN -conf FILE -dns ADDR -metrics ADDR -name NAME -want IP
//	bench latency  -kubeconfig K -dns ADDR -updates N
//	bench churn    -kubeconfig K -dns ADDR -rate R -duration D
//	bench rollbig  -kubeconfig K -endpoints N -rate R -updates U name=ADDR ...
//	bench realenvelope -kubeconfig K -cpdir DIR -sizes N,... NAME=COREFILE=DNS=METRICS ...
//	bench envelope -results TSV ...  the envelope section, from bench/envelope.sh
//	bench report   -results TSV -gobench FILE ...   BENCHMARKS.md on standard output
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench load|startup|latency|churn|rollbig|realenvelope|restart|envelope|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = load(os.Args[2:])
	case "startup":
		err = startup(os.Args[2:])
	case "latency":
		err = latency(os.Args[2:])
	case "churn":
		err = churn(os.Args[2:])
	case "rollbig":
		err = rollbig(os.Args[2:])
	case "realenvelope":
		err = realEnvelope(os.Args[2:])
	case "envelope":
		err = envelope(os.Args[2:])
	case "restart":
		err = restart(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
