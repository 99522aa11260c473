// Command tlogcheck audits a running bpfsign service with a third party's code: Go's
// golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's golang-golang-x-mod-dev), built in
// GOPATH mode. It reads the log as any auditor would and exits 1 on the first disagreement:
//
//   - note.Open on the checkpoint, with a verifier made from the service's log key;
//   - every entry, from the C2SP entry bundles (each entry a small JSON record under 64 KiB);
//   - the root tlog computes from those entries against the checkpoint's root;
//   - tlog.CheckRecord on each entry's inclusion proof (GET /v1/log/entries/{i});
//   - tlog.CheckTree from an older checkpoint (-old FILE) to the current one;
//   - every hash tile tlog computes (ReadTileData, height 8) against the service's tile, and
//     leaf hashes read through tlog.TileHashReader, which authenticates our tiles to the root.
//
// Output: one line of counts on success ("tlogcheck: OK ...").
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

var server = flag.String("server", "", "the service's base URL")
var oldPath = flag.String("old", "", "an older signed checkpoint of the same log (file), for tlog.CheckTree")

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

func get(path string) []byte {
	r, err := http.Get(strings.TrimRight(*server, "/") + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	if r.StatusCode != 200 {
		fail("GET %s: %d %s", path, r.StatusCode, body)
	}
	return body
}

// checkpoint opens a signed checkpoint (c2sp.org/tlog-checkpoint) and reads its tree.
func checkpoint(msg []byte, v note.Verifier) (string, tlog.Tree) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint: %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q: %v", lines[1], err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	return lines[0], tlog.Tree{N: size, Hash: h}
}

func hashesOf(b64s []string) []tlog.Hash {
	out := make([]tlog.Hash, len(b64s))
	for i, s := range b64s {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			fail("proof hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out
}

// tilePath is a tile's path under /v1/log/: tlog's own path without its height (C2SP tlog-tiles).
func tilePath(t tlog.Tile) string {
	return "/v1/log/tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
}

// serverTiles reads the service's hash tiles for tlog.TileHashReader.
type serverTiles struct{ reads int }

func (s *serverTiles) Height() int { return height }
func (s *serverTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = get(tilePath(t))
		s.reads++
	}
	return out, nil
}
func (s *serverTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// entryBundle splits a C2SP entry bundle: each entry a big-endian u16 length and its bytes.
func entryBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated length")
		}
		n := int(data[0])<<8 | int(data[1])
		if len(data) < 2+n {
			return nil, fmt.Errorf("entry of %d bytes, %d left", n, len(data)-2)
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

type loaderEntry struct {
	Kind            string `json:"kind"`
	ManifestSha256  string `json:"manifestSha256"`
	LoaderSignature string `json:"loaderSignature"`
	Scheme          string `json:"scheme"`
}

func main() {
	flag.Parse()
	if *server == "" {
		fail("usage: tlogcheck -server URL [-old CHECKPOINT]")
	}
	var keys struct {
		LogKey    string `json:"logKey"`
		LogOrigin string `json:"logOrigin"`
	}
	if err := json.Unmarshal(get("/v1/keys"), &keys); err != nil {
		fail("/v1/keys: %v", err)
	}
	verifier, err := note.NewVerifier(keys.LogKey)
	if err != nil {
		fail("note.NewVerifier(%q): %v", keys.LogKey, err)
	}
	origin, tree := checkpoint(get("/v1/log/checkpoint"), verifier)
	if origin != keys.LogOrigin {
		fail("checkpoint origin %q, want %q", origin, keys.LogOrigin)
	}

	// Every entry, from the entry bundles.
	var entries [][]byte
	bundles := 0
	for n := int64(0); n*256 < tree.N; n++ {
		w := tree.N - n*256
		t := tlog.Tile{H: height, L: -1, N: n, W: 256}
		if w < 256 {
			t.W = int(w)
		}
		got, err := entryBundle(get("/v1/log/tile/entries/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/data/", height))))
		if err != nil || len(got) != t.W {
			fail("entry bundle %d: %d entries, want %d (%v)", n, len(got), t.W, err)
		}
		entries = append(entries, got...)
		bundles++
	}
	maxEntry := 0
	for i, e := range entries {
		var le loaderEntry
		if err := json.Unmarshal(e, &le); err != nil || le.Kind != "bpfsign/loader/v1" || len(le.ManifestSha256) != 64 || le.LoaderSignature == "" {
			fail("entry %d is not a bpfsign/loader/v1 record (%v): %.80q", i, err, e)
		}
		if len(e) > maxEntry {
			maxEntry = len(e)
		}
	}

	// tlog's own hashes of the entries: the root, and every tile.
	var stored []tlog.Hash
	mem := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d of %d", x, len(stored))
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, mem)
		if err != nil {
			fail("tlog.StoredHashes(%d): %v", i, err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(tree.N, mem)
	if err != nil || root != tree.Hash {
		fail("tlog.TreeHash of the entries = %v, checkpoint root %v (%v)", root, tree.Hash, err)
	}
	tiles := tlog.NewTiles(height, 0, tree.N)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, mem)
		if err != nil {
			fail("tlog.ReadTileData(%s): %v", t.Path(), err)
		}
		if got := get(tilePath(t)); !bytes.Equal(got, want) {
			fail("tile %s: the service's %d bytes differ from tlog's %d", tilePath(t), len(got), len(want))
		}
	}
	st := &serverTiles{}
	reader := tlog.TileHashReader(tree, st)
	leafIdx := make([]int64, len(entries))
	for i := range entries {
		leafIdx[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := reader.ReadHashes(leafIdx)
	if err != nil {
		fail("tlog.TileHashReader: %v", err)
	}
	for i, h := range leaves {
		if h != tlog.RecordHash(entries[i]) {
			fail("leaf %d from the tiles is not the hash of entry %d", i, i)
		}
	}

	// Inclusion proofs of every entry.
	records := 0
	for i := range entries {
		var e struct {
			Body           string `json:"body"`
			InclusionProof struct {
				Hashes     []string `json:"hashes"`
				Checkpoint string   `json:"checkpoint"`
			} `json:"inclusionProof"`
		}
		if err := json.Unmarshal(get(fmt.Sprintf("/v1/log/entries/%d", i)), &e); err != nil {
			fail("entry %d: %v", i, err)
		}
		body, _ := base64.StdEncoding.DecodeString(e.Body)
		if !bytes.Equal(body, entries[i]) {
			fail("entry %d differs from its entry bundle's", i)
		}
		_, pt := checkpoint([]byte(e.InclusionProof.Checkpoint), verifier)
		if err := tlog.CheckRecord(hashesOf(e.InclusionProof.Hashes), pt.N, pt.Hash, int64(i), tlog.RecordHash(body)); err != nil {
			fail("tlog.CheckRecord(entry %d in %d): %v", i, pt.N, err)
		}
		records++
	}

	// Consistency from an older checkpoint.
	trees := 0
	if *oldPath != "" {
		msg, err := os.ReadFile(*oldPath)
		if err != nil {
			fail("%v", err)
		}
		_, old := checkpoint(msg, verifier)
		var c struct{ Hashes []string }
		if err := json.Unmarshal(get(fmt.Sprintf("/v1/log/consistency?from=%d&to=%d", old.N, tree.N)), &c); err != nil {
			fail("consistency: %v", err)
		}
		if err := tlog.CheckTree(hashesOf(c.Hashes), tree.N, tree.Hash, old.N, old.Hash); err != nil {
			fail("tlog.CheckTree(%d → %d): %v", old.N, tree.N, err)
		}
		trees++
	}
	fmt.Printf("tlogcheck: OK origin %s size %d: %d entry bundles, %d records (max %d bytes), %d inclusion proofs, %d tree proofs, %d tiles equal to tlog's, %d tiles read through TileHashReader\n",
		origin, tree.N, bundles, len(entries), maxEntry, records, trees, len(tiles), st.reads)
}
