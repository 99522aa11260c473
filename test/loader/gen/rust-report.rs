//! Test support for the Rust light skeletons (rust-kernel.test.ts): describes the maps and
//! programs behind a loaded skeleton's fds as one JSON object, in the shape of
//! test/kernel-runner/runner.c's report (names, types, sizes, flags, frozen state, array
//! contents, PROG_ARRAY slots; program types, xlated lengths and tags), so compare.ts compares
//! the two. Uses only std and the libc crate, like the skeletons.

use std::fmt::Write;

const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_MAP_TYPE_PROG_ARRAY: u32 = 3;
const BPF_MAP_TYPE_ARRAY: u32 = 2;

fn sys_bpf(cmd: libc::c_long, attr: &mut [u64; 16]) -> Result<i64, i32> {
    // SAFETY: attr is a zero-padded 128-byte bpf_attr whose pointers outlive the call.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), 128 as libc::c_long) };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(r)
    }
}

fn info(fd: i32, buf: &mut [u8]) -> Result<(), i32> {
    let mut a = [0u64; 16];
    a[0] = (fd as u32 as u64) | ((buf.len() as u64) << 32);
    a[1] = buf.as_mut_ptr() as u64;
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a).map(|_| ())
}

fn elem(cmd: libc::c_long, fd: i32, key: u32, value: *mut u8) -> Result<(), i32> {
    let mut a = [0u64; 16];
    a[0] = fd as u32 as u64;
    a[1] = &key as *const u32 as u64;
    a[2] = value as u64;
    sys_bpf(cmd, &mut a).map(|_| ())
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn hex(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for x in b {
        write!(s, "{:02x}", x).unwrap();
    }
    s + "\""
}

fn name(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take_while(|&&c| c != 0) {
        if c == b'"' || c == b'\\' {
            s.push('\\');
            s.push(c as char);
        } else if !(0x20..=0x7e).contains(&c) {
            write!(s, "\\u{:04x}", c).unwrap();
        } else {
            s.push(c as char);
        }
    }
    s + "\""
}

fn map(i: usize, fd: i32) -> String {
    let mut s = format!("{{\"index\":{},\"fd\":{}", i, fd);
    let mut b = [0u8; 88];
    if fd <= 0 {
        return s + "}";
    }
    if let Err(e) = info(fd, &mut b) {
        return s + &format!(",\"info_errno\":{}}}", e);
    }
    let (ty, key_size, vsz, max) = (u32_at(&b, 0), u32_at(&b, 8), u32_at(&b, 12), u32_at(&b, 16));
    write!(s, ",\"id\":{},\"name\":{},\"type\":{}", u32_at(&b, 4), name(&b[24..40]), ty).unwrap();
    write!(s, ",\"key_size\":{},\"value_size\":{},\"max_entries\":{}", key_size, vsz, max).unwrap();
    write!(s, ",\"flags\":{},\"btf_id\":{}", u32_at(&b, 20), u32_at(&b, 64)).unwrap();
    if ty == BPF_MAP_TYPE_PROG_ARRAY {
        let ids: Vec<String> = (0..max.min(1024))
            .map(|k| {
                let mut id = 0u32;
                match elem(BPF_MAP_LOOKUP_ELEM, fd, k, &mut id as *mut u32 as *mut u8) {
                    Ok(()) => id.to_string(),
                    Err(e) if e == libc::ENOENT => "0".to_string(),
                    Err(e) => (-e).to_string(),
                }
            })
            .collect();
        write!(s, ",\"prog_ids\":[{}]", ids.join(",")).unwrap();
    }
    let total = vsz as usize * max as usize;
    if ty != BPF_MAP_TYPE_ARRAY || key_size != 4 || total > 1 << 20 || vsz == 0 {
        return s + ",\"frozen\":null,\"contents\":null}";
    }
    let mut val = vec![0u8; total];
    for k in 0..max {
        let p = val[k as usize * vsz as usize..].as_mut_ptr();
        if elem(BPF_MAP_LOOKUP_ELEM, fd, k, p).is_err() {
            break;
        }
    }
    let mut v0 = val[..vsz as usize].to_vec();
    match elem(BPF_MAP_UPDATE_ELEM, fd, 0, v0.as_mut_ptr()) {
        Ok(()) => s += ",\"frozen\":false",
        Err(e) if e == libc::EPERM => s += ",\"frozen\":true",
        Err(e) => write!(s, ",\"frozen\":null,\"update_errno\":{}", e).unwrap(),
    }
    s + &format!(",\"contents\":{}}}", hex(&val))
}

fn prog(i: usize, fd: i32) -> String {
    let s = format!("{{\"index\":{},\"fd\":{}", i, fd);
    let mut b = [0u8; 80];
    if fd <= 0 {
        return s + "}";
    }
    if let Err(e) = info(fd, &mut b) {
        return s + &format!(",\"info_errno\":{}}}", e);
    }
    s + &format!(
        ",\"id\":{},\"name\":{},\"type\":{},\"xlated_prog_len\":{},\"tag\":{}}}",
        u32_at(&b, 4),
        name(&b[64..80]),
        u32_at(&b, 0),
        u32_at(&b, 20),
        hex(&b[8..16])
    )
}

/// The open file descriptors of this process.
pub fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// The report of a loaded skeleton: `maps`/`progs` are the fds in ctx order, `views` the
/// (map index, bytes seen through the typed global-data struct) pairs.
pub fn report(maps: &[i32], progs: &[i32], views: &[(usize, Vec<u8>)]) -> String {
    let m: Vec<String> = maps.iter().enumerate().map(|(i, &fd)| map(i, fd)).collect();
    let p: Vec<String> = progs.iter().enumerate().map(|(i, &fd)| prog(i, fd)).collect();
    let v: Vec<String> = views
        .iter()
        .map(|(i, b)| format!("{{\"map\":{},\"bytes\":{}}}", i, hex(b)))
        .collect();
    format!(
        "\"stage\":\"ok\",\"errno\":0,\"retval\":0,\"maps\":[{}],\"progs\":[{}],\"views\":[{}]",
        m.join(","),
        p.join(","),
        v.join(",")
    )
}
