/**
 * The runtime part of a Go light skeleton: the same in every generated package (like the C
 * header's skel_internal.h, but embedded, so a skeleton needs only the Go standard library and
 * golang.org/x/sys/unix). It is libbpf v1.7.0's bpf_load_and_run() written in Go over raw bpf()
 * calls: every bpf_attr is built in a zeroed buffer at fixed UAPI offsets (the offsets of
 * lskel-runtime.ts, which is the same sequence in C), so it does not depend on x/sys/unix knowing
 * Linux 6.18's signing fields.
 *
 * Sequence: MAP_CREATE `__loader.map` (ARRAY, key 4, value len(data), 1 entry, excl_prog_hash
 * when the skeleton has one) → MAP_UPDATE_ELEM key 0 → MAP_FREEZE → with excl_prog_hash:
 * OBJ_GET_INFO_BY_FD with a 32-byte hash buffer (the kernel hashes the frozen map; the 6.18
 * loader checks that hash) → PROG_LOAD `__loader.prog` (SYSCALL, sleepable, "Dual BSD/GPL",
 * fd_array = {map fd}, fd_array_cnt 1 and signature/keyring id when signed, log fields from the
 * ctx) → PROG_RUN with the skeleton as ctx → close the loader map and program on every path.
 *
 * Everything the kernel reads or writes through a pointer lives in a heap object (loadState, or
 * the skeleton itself) that the skeleton references during Load: the Go heap does not move
 * objects, so the addresses in the attrs stay valid for the call.
 */
const RUNTIME = String.raw`// LoadError is a failed step of Load: which step, and the kernel's errno (for the loader
// program's own negative return value, that value negated).
type LoadError struct {
	Op    string
	Errno unix.Errno
}

func (e *LoadError) Error() string { return e.Op + ": " + e.Errno.Error() }

// Unwrap lets errors.Is(err, unix.EPERM) and the like see the errno.
func (e *LoadError) Unwrap() error { return e.Errno }

// LoaderCtx is libbpf's struct bpf_loader_ctx, the head of the memory the loader program reads
// and writes (the skeleton up to its Links).
type LoaderCtx struct {
	Sz       uint32
	Flags    uint32
	LogLevel uint32
	LogSize  uint32
	LogBuf   uint64
}

// MapDesc is struct bpf_map_desc: the loader program writes MapFd.
type MapDesc struct {
	MapFd        int32
	MaxEntries   uint32
	InitialValue uint64
}

// ProgDesc is struct bpf_prog_desc: the loader program writes ProgFd.
type ProgDesc struct {
	ProgFd int32
}

const (
	bpfMapCreate         = 0
	bpfMapUpdateElem     = 2
	bpfProgLoad          = 5
	bpfProgTestRun       = 10
	bpfObjGetInfoByFd    = 15
	bpfRawTracepointOpen = 17
	bpfMapFreeze         = 22
	bpfLinkCreate        = 28
	bpfMapTypeArray      = 2
	bpfProgTypeSyscall   = 31
	bpfFSleepable        = 1 << 4
	bpfTraceIter         = 28
	attrSize             = 168
	mapInfoSize          = 104
)

// bpfAttr is a union bpf_attr up to keyring_id, written at fixed offsets in host byte order.
type bpfAttr [attrSize / 8]uint64

func (a *bpfAttr) put32(off uintptr, v uint32) {
	*(*uint32)(unsafe.Add(unsafe.Pointer(a), off)) = v
}

func (a *bpfAttr) put64(off uintptr, v uint64) {
	*(*uint64)(unsafe.Add(unsafe.Pointer(a), off)) = v
}

func (a *bpfAttr) get32(off uintptr) uint32 {
	return *(*uint32)(unsafe.Add(unsafe.Pointer(a), off))
}

func (a *bpfAttr) putName(off uintptr, name string) {
	b := (*[attrSize]byte)(unsafe.Pointer(a))
	copy(b[off:off+15], name)
}

func addrOf(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }

func bytesAddr(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return addrOf(unsafe.Pointer(&b[0]))
}

func sysBpf(cmd uintptr, a *bpfAttr, size uintptr) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(a)), size)
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// loadState holds everything the kernel reads through a pointer during Load.
type loadState struct {
	attr    bpfAttr
	info    [mapInfoSize / 8]uint64
	sha     [32]byte
	key     uint32
	mapFd   int32
	license [16]byte
	data    []byte
	insns   []byte
	sig     []byte
	excl    []byte
}

func newLoadState(data, insns, sig, excl string) *loadState {
	st := &loadState{data: []byte(data), insns: []byte(insns), sig: []byte(sig), excl: []byte(excl), mapFd: -1}
	copy(st.license[:], "Dual BSD/GPL")
	return st
}

// loaderMap creates, fills and freezes the loader map (and has the kernel hash it when exclusive).
func (st *loadState) loaderMap() error {
	a := &st.attr
	*a = bpfAttr{}
	a.put32(0, bpfMapTypeArray)
	a.put32(4, 4)
	a.put32(8, uint32(len(st.data)))
	a.put32(12, 1)
	a.putName(28, "__loader.map")
	a.put64(80, bytesAddr(st.excl))
	a.put32(88, uint32(len(st.excl)))
	fd, e := sysBpf(bpfMapCreate, a, 92)
	if e != 0 {
		return &LoadError{"failed to create loader map", e}
	}
	st.mapFd = int32(fd)
	*a = bpfAttr{}
	a.put32(0, uint32(st.mapFd))
	a.put64(8, addrOf(unsafe.Pointer(&st.key)))
	a.put64(16, bytesAddr(st.data))
	if _, e = sysBpf(bpfMapUpdateElem, a, 32); e != 0 {
		return &LoadError{"failed to update loader map", e}
	}
	*a = bpfAttr{}
	a.put32(0, uint32(st.mapFd))
	if _, e = sysBpf(bpfMapFreeze, a, 4); e != 0 {
		return &LoadError{"failed to freeze map", e}
	}
	if len(st.excl) == 0 {
		return nil
	}
	st.info[88/8] = addrOf(unsafe.Pointer(&st.sha))
	st.info[96/8] = uint64(len(st.sha))
	*a = bpfAttr{}
	a.put32(0, uint32(st.mapFd))
	a.put32(4, mapInfoSize)
	a.put64(8, addrOf(unsafe.Pointer(&st.info)))
	if _, e = sysBpf(bpfObjGetInfoByFd, a, 16); e != 0 {
		return &LoadError{"failed to fetch obj info", e}
	}
	return nil
}

// loadAndRun is bpf_load_and_run(): the loader map and program are closed on every path.
func loadAndRun(st *loadState, ctx *LoaderCtx, keyringID int32) error {
	progFd := -1
	defer func() {
		if st.mapFd >= 0 {
			unix.Close(int(st.mapFd))
			st.mapFd = -1
		}
		if progFd >= 0 {
			unix.Close(progFd)
		}
	}()
	if err := st.loaderMap(); err != nil {
		return err
	}
	a := &st.attr
	*a = bpfAttr{}
	a.put32(0, bpfProgTypeSyscall)
	a.put32(4, uint32(len(st.insns)/8))
	a.put64(8, bytesAddr(st.insns))
	a.put64(16, addrOf(unsafe.Pointer(&st.license)))
	a.put32(24, ctx.LogLevel)
	a.put32(28, ctx.LogSize)
	a.put64(32, ctx.LogBuf)
	a.put32(44, bpfFSleepable)
	a.putName(48, "__loader.prog")
	a.put64(120, addrOf(unsafe.Pointer(&st.mapFd)))
	if len(st.sig) > 0 {
		a.put32(148, 1)
		a.put64(152, bytesAddr(st.sig))
		a.put32(160, uint32(len(st.sig)))
	}
	a.put32(164, uint32(keyringID))
	fd, e := sysBpf(bpfProgLoad, a, attrSize)
	if e != 0 {
		return &LoadError{"failed to load loader prog", e}
	}
	progFd = fd
	*a = bpfAttr{}
	a.put32(0, uint32(progFd))
	a.put32(40, ctx.Sz)
	a.put64(48, addrOf(unsafe.Pointer(ctx)))
	_, e = sysBpf(bpfProgTestRun, a, 80)
	runtime.KeepAlive(ctx)
	if e != 0 {
		return &LoadError{"failed to execute loader prog", e}
	}
	if ret := int32(a.get32(4)); ret < 0 {
		return &LoadError{"error returned by loader prog", unix.Errno(-ret)}
	}
	return nil
}

// prepMapData maps anonymous memory holding a global-data map's initial image; the loader copies
// the image from there, and finalizeMapData replaces it with the map's own memory.
func prepMapData(image string, size int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	copy(mem, image)
	return mem, nil
}

func finalizeMapData(mem []byte, prot int, fd int32) error {
	_, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(prot),
		unix.MAP_SHARED|unix.MAP_FIXED, uintptr(fd), 0)
	if e != 0 {
		return &LoadError{"failed to mmap map", e}
	}
	return nil
}

func freeMapData(mem *[]byte) {
	if *mem != nil {
		unix.Munmap(*mem)
		*mem = nil
	}
}

func closeFd(fd *int32) {
	if *fd > 0 {
		unix.Close(int(*fd))
	}
	*fd = 0
}

func rawTracepointOpen(name string, progFd int32) (int32, error) {
	a := new(bpfAttr)
	n := make([]byte, len(name)+1)
	copy(n, name)
	if name != "" {
		a.put64(0, bytesAddr(n))
	}
	a.put32(8, uint32(progFd))
	fd, e := sysBpf(bpfRawTracepointOpen, a, 12)
	runtime.KeepAlive(n)
	if e != 0 {
		return 0, e
	}
	return int32(fd), nil
}

func linkCreate(progFd int32, attachType uint32) (int32, error) {
	a := new(bpfAttr)
	a.put32(0, uint32(progFd))
	a.put32(8, attachType)
	fd, e := sysBpf(bpfLinkCreate, a, 28)
	if e != 0 {
		return 0, e
	}
	return int32(fd), nil
}
`;

/** Go text of the runtime (declarations only; ends with a newline). */
export function goRuntime(): string {
  return RUNTIME;
}
