// A Go HTTP client: Go makes its own system calls, so the shim cannot see
// its traffic. Under the shim it must simply run as it always does.
// usage: goclient URL
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	r, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	fmt.Printf("%d %s\n", r.StatusCode, body)
}
