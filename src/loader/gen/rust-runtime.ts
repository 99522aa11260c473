/**
 * The runtime every Rust light skeleton carries (rust.ts prints it after the module's `use`
 * lines): the error type, the loader context and descriptor structs, `union bpf_attr` as a
 * zeroed byte buffer written at fixed UAPI offsets (so nothing depends on the libc crate's
 * BPF definitions), mmap helpers, attach helpers and `bpf_load_and_run`.
 *
 * bpf_load_and_run does what libbpf v1.7.0's does: MAP_CREATE `__loader.map` (ARRAY, key 4,
 * value data_sz, one entry; with excl_prog_hash for a linux-6.18 loader) → MAP_UPDATE_ELEM key 0
 * → MAP_FREEZE → [linux-6.18: BPF_OBJ_GET_INFO_BY_FD with a 32-byte hash buffer, so the kernel
 * hashes the frozen map for the loader's own check] → PROG_LOAD `__loader.prog` (SYSCALL,
 * sleepable, fd_array = {map}, the ctx's log fields, and signature / signature_size /
 * keyring_id when there is a signature) → PROG_RUN with the skeleton as ctx. The loader map and
 * program are OwnedFds, so every return path closes them. Attribute sizes are those of the C
 * runtime (lskel-runtime.ts), so both fail the same way on the same kernel. rustfmt-clean
 * (checked by the tests with Debian's rustfmt and a current one) and Rust 1.63-compatible.
 */
const RUNTIME = String.raw`/// Why a step failed: what was being done (libbpf's errstr) and the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub step: &'static str,
    pub errno: i32,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = io::Error::from_raw_os_error(self.errno);
        write!(f, "{}: {}", self.step, e)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::from_raw_os_error(e.errno)
    }
}

/// struct bpf_loader_ctx: the head of the context the loader program runs with.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default)]
pub struct bpf_loader_ctx {
    pub sz: u32,
    pub flags: u32,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
}

/// struct bpf_map_desc: the loader writes map_fd; initial_value is the initial image's address.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default)]
pub struct bpf_map_desc {
    pub map_fd: i32,
    pub max_entries: u32,
    pub initial_value: u64,
}

impl bpf_map_desc {
    /// The map, once loaded.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        borrow_fd(&self.map_fd)
    }
}

/// struct bpf_prog_desc: the loader writes prog_fd.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct bpf_prog_desc {
    pub prog_fd: i32,
}

impl bpf_prog_desc {
    /// The program, once loaded (None for a program that does not autoload).
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        borrow_fd(&self.prog_fd)
    }
}

fn borrow_fd(fd: &RawFd) -> Option<BorrowedFd<'_>> {
    if *fd > 0 {
        // SAFETY: the skeleton owns the fd until it is dropped.
        Some(unsafe { BorrowedFd::borrow_raw(*fd) })
    } else {
        None
    }
}

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;
const BPF_MAP_FREEZE: libc::c_long = 22;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_PROG_TYPE_SYSCALL: u32 = 31;
const BPF_F_SLEEPABLE: u32 = 1 << 4;
const BPF_TRACE_ITER: u32 = 28;
const ATTR_SZ: usize = 168;

/// A union bpf_attr, written at fixed UAPI offsets (no dependence on header versions).
#[repr(C, align(8))]
struct Attr([u8; ATTR_SZ]);

impl Attr {
    fn new() -> Attr {
        Attr([0; ATTR_SZ])
    }

    fn put32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }

    fn put64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }

    fn get32(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.0[off..off + 4]);
        u32::from_ne_bytes(b)
    }
}

/// The error of the call that just failed.
fn last_error(step: &'static str) -> Error {
    let errno = io::Error::last_os_error().raw_os_error();
    Error {
        step,
        errno: errno.unwrap_or(libc::EIO),
    }
}

fn sys_bpf(
    cmd: libc::c_long,
    attr: &mut Attr,
    size: usize,
    step: &'static str,
) -> Result<i32, Error> {
    // SAFETY: attr is a live buffer of ATTR_SZ >= size bytes; pointers in it outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr(),
            size as libc::c_long,
        )
    };
    if r < 0 {
        Err(last_error(step))
    } else {
        Ok(r as i32)
    }
}

fn sys_bpf_fd(
    cmd: libc::c_long,
    attr: &mut Attr,
    size: usize,
    step: &'static str,
) -> Result<OwnedFd, Error> {
    let fd = sys_bpf(cmd, attr, size, step)?;
    // SAFETY: the kernel returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn close_fd(fd: &mut RawFd) {
    if *fd > 0 {
        // SAFETY: the skeleton owns fds > 0 and forgets them here.
        unsafe { libc::close(*fd) };
    }
    *fd = 0;
}

/// An anonymous shared mapping holding image until load() (libbpf's skel_prep_map_data).
fn prep_map_data(image: &[u8], mmap_sz: usize) -> Result<*mut u8, Error> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_SHARED | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh mapping; image.len() <= mmap_sz.
    unsafe {
        let addr = libc::mmap(ptr::null_mut(), mmap_sz, prot, flags, -1, 0);
        if addr == libc::MAP_FAILED {
            return Err(last_error("failed to map initial data"));
        }
        ptr::copy_nonoverlapping(image.as_ptr(), addr as *mut u8, image.len());
        Ok(addr as *mut u8)
    }
}

/// Maps the created map over the initial image, at the same address (skel_finalize_map_data).
fn finalize_map_data(map: &bpf_map_desc, mmap_sz: usize, prot: libc::c_int) -> Result<(), Error> {
    let flags = libc::MAP_SHARED | libc::MAP_FIXED;
    let addr = map.initial_value as usize as *mut libc::c_void;
    // SAFETY: addr is the skeleton's own mapping of mmap_sz bytes, replaced in place.
    let r = unsafe { libc::mmap(addr, mmap_sz, prot, flags, map.map_fd, 0) };
    if r == libc::MAP_FAILED {
        return Err(last_error("failed to map global data"));
    }
    Ok(())
}

fn free_map_data(p: *mut u8, mmap_sz: usize) {
    if !p.is_null() {
        // SAFETY: p is a mapping of mmap_sz bytes the skeleton made.
        unsafe { libc::munmap(p as *mut libc::c_void, mmap_sz) };
    }
}

fn raw_tracepoint_open(name: Option<&[u8]>, prog_fd: RawFd) -> Result<i32, Error> {
    let mut a = Attr::new();
    a.put64(0, name.map_or(0, |n| n.as_ptr() as u64));
    a.put32(8, prog_fd as u32);
    sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &mut a, 12, "failed to attach")
}

fn link_create(prog_fd: RawFd, attach_type: u32) -> Result<i32, Error> {
    let mut a = Attr::new();
    a.put32(0, prog_fd as u32);
    a.put32(8, attach_type);
    sys_bpf(BPF_LINK_CREATE, &mut a, 16, "failed to attach")
}

/// A memory-mapped map: its index in maps, initial image, mapping size and protection.
struct Mmap {
    map: usize,
    image: &'static [u8],
    size: usize,
    read_only: bool,
}

struct LoadAndRun<'a> {
    data: &'a [u8],
    insns: &'a [u8],
    /// Passed to BPF_PROG_LOAD when not empty.
    signature: &'a [u8],
    keyring_id: i32,
    /// linux-6.18 scheme: the loader map is exclusive to this digest and its hash is read.
    excl_prog_hash: Option<&'a [u8]>,
}

/// What libbpf v1.7.0's bpf_load_and_run() does; every fd it opens is closed on return.
fn bpf_load_and_run(ctx: *mut bpf_loader_ctx, o: &LoadAndRun<'_>) -> Result<(), Error> {
    let mut a = Attr::new();
    a.put32(0, BPF_MAP_TYPE_ARRAY);
    a.put32(4, 4);
    a.put32(8, o.data.len() as u32);
    a.put32(12, 1);
    a.0[28..40].copy_from_slice(b"__loader.map");
    let mut size = 72;
    if let Some(h) = o.excl_prog_hash {
        a.put64(80, h.as_ptr() as u64);
        a.put32(88, h.len() as u32);
        size = 92;
    }
    let map = sys_bpf_fd(BPF_MAP_CREATE, &mut a, size, "failed to create loader map")?;
    let map_fd: RawFd = map.as_raw_fd();

    let key: u32 = 0;
    let mut a = Attr::new();
    a.put32(0, map_fd as u32);
    a.put64(8, &key as *const u32 as u64);
    a.put64(16, o.data.as_ptr() as u64);
    sys_bpf(
        BPF_MAP_UPDATE_ELEM,
        &mut a,
        32,
        "failed to update loader map",
    )?;

    let mut a = Attr::new();
    a.put32(0, map_fd as u32);
    sys_bpf(BPF_MAP_FREEZE, &mut a, 4, "failed to freeze loader map")?;

    if o.excl_prog_hash.is_some() {
        // struct bpf_map_info: hash at 88, hash_size at 96 (Linux 6.18); the kernel hashes the map.
        let mut info = [0u64; 13];
        let mut sha = [0u8; 32];
        info[11] = sha.as_mut_ptr() as u64;
        info[12] = sha.len() as u64;
        let mut a = Attr::new();
        a.put32(0, map_fd as u32);
        a.put32(4, 104);
        a.put64(8, info.as_mut_ptr() as u64);
        sys_bpf(
            BPF_OBJ_GET_INFO_BY_FD,
            &mut a,
            16,
            "failed to get loader map info",
        )?;
    }

    // SAFETY: ctx points at the skeleton, which starts with its bpf_loader_ctx.
    let (log_level, log_size, log_buf) =
        unsafe { ((*ctx).log_level, (*ctx).log_size, (*ctx).log_buf) };
    let mut a = Attr::new();
    a.put32(0, BPF_PROG_TYPE_SYSCALL);
    a.put32(4, (o.insns.len() / 8) as u32);
    a.put64(8, o.insns.as_ptr() as u64);
    a.put64(16, b"Dual BSD/GPL\0".as_ptr() as u64);
    a.put32(24, log_level);
    a.put32(28, log_size);
    a.put64(32, log_buf);
    a.put32(44, BPF_F_SLEEPABLE);
    a.0[48..61].copy_from_slice(b"__loader.prog");
    a.put64(120, &map_fd as *const RawFd as u64);
    let mut size = 128;
    if !o.signature.is_empty() {
        a.put64(152, o.signature.as_ptr() as u64);
        a.put32(160, o.signature.len() as u32);
        a.put32(164, o.keyring_id as u32);
        size = 168;
    }
    let prog = sys_bpf_fd(BPF_PROG_LOAD, &mut a, size, "failed to load loader prog")?;

    let mut a = Attr::new();
    a.put32(0, prog.as_raw_fd() as u32);
    // SAFETY: as above; sz covers the ctx, maps and progs the loader reads and writes.
    a.put32(40, unsafe { (*ctx).sz });
    a.put64(48, ctx as u64);
    sys_bpf(
        BPF_PROG_TEST_RUN,
        &mut a,
        80,
        "failed to execute loader prog",
    )?;
    let retval = a.get32(4) as i32;
    if retval < 0 {
        return Err(Error {
            step: "error returned by loader prog",
            errno: -retval,
        });
    }
    Ok(())
}
`;

/** Rust text of the runtime (ends with a newline). */
export function rustRuntime(): string {
  return RUNTIME;
}
