/**
 * The self-contained runtime of a `--standalone` light skeleton: C text that replaces
 * `#include <bpf/skel_internal.h>`. It provides the same names the skeleton body uses
 * (struct bpf_loader_ctx, bpf_map_desc, bpf_prog_desc, bpf_load_and_run_opts, skel_alloc,
 * skel_free, skel_closenz, skel_prep_map_data, skel_finalize_map_data, skel_free_map_data,
 * skel_raw_tracepoint_open, skel_link_create, bpf_load_and_run) and needs only
 * <linux/bpf.h>, <unistd.h>, <sys/syscall.h>, <string.h>, <stdlib.h> and <errno.h>.
 *
 * Every bpf_attr is built in a zeroed byte buffer at fixed UAPI offsets, so the code does
 * not depend on how new the installed <linux/bpf.h> is (the signing fields of Linux 6.18
 * are absent from older headers).
 *
 * bpf_load_and_run: MAP_CREATE `__loader.map` (ARRAY, key 4, value data_sz, 1 entry, with
 * excl_prog_hash when signed) → MAP_UPDATE_ELEM key 0 → MAP_FREEZE → [signed:
 * OBJ_GET_INFO_BY_FD with a 32-byte hash buffer, making the kernel hash the frozen map] →
 * PROG_LOAD `__loader.prog` (SYSCALL, sleepable, license "Dual BSD/GPL", fd_array =
 * {map_fd}, log fields from the ctx, signature/signature_size/keyring_id when signed) →
 * PROG_RUN with ctx_in = the skeleton, ctx_size_in = ctx->sz → close the loader map and
 * program. The objects the loader created stay open: their fds are in the skeleton.
 * Returns 0 or a negative errno (the loader's negative return value counts as failure).
 */
const RUNTIME = String.raw `#ifndef __BPFSIGN_LSKEL_RUNTIME__
#define __BPFSIGN_LSKEL_RUNTIME__
/* Self-contained light-skeleton runtime (bpfsign --standalone). */
#include <linux/bpf.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>

#ifndef PROT_READ
#define PROT_READ 0x1
#endif
#ifndef PROT_WRITE
#define PROT_WRITE 0x2
#endif
#define BPFSIGN_MAP_SHARED 0x01
#define BPFSIGN_MAP_PRIVATE 0x02
#define BPFSIGN_MAP_FIXED 0x10
#define BPFSIGN_MAP_ANONYMOUS 0x20
#define BPFSIGN_ATTR_SZ 168

struct bpf_loader_ctx {
	__u32 sz;
	__u32 flags;
	__u32 log_level;
	__u32 log_size;
	__u64 log_buf;
};

struct bpf_map_desc {
	int map_fd;
	__u32 max_entries;
	__aligned_u64 initial_value;
};

struct bpf_prog_desc {
	int prog_fd;
};

struct bpf_load_and_run_opts {
	struct bpf_loader_ctx *ctx;
	const void *data;
	const void *insns;
	__u32 data_sz;
	__u32 insns_sz;
	const char *errstr;
	void *signature;
	__u32 signature_sz;
	__s32 keyring_id;
	void *excl_prog_hash;
	__u32 excl_prog_hash_sz;
};

union bpfsign_attr {
	__u64 align;
	unsigned char b[BPFSIGN_ATTR_SZ];
};

static inline void bpfsign_put32(union bpfsign_attr *a, unsigned int off, __u32 v)
{
	memcpy(&a->b[off], &v, sizeof(v));
}

static inline void bpfsign_put64(union bpfsign_attr *a, unsigned int off, __u64 v)
{
	memcpy(&a->b[off], &v, sizeof(v));
}

static inline __u32 bpfsign_get32(const union bpfsign_attr *a, unsigned int off)
{
	__u32 v;

	memcpy(&v, &a->b[off], sizeof(v));
	return v;
}

static inline int bpfsign_sys_bpf(int cmd, union bpfsign_attr *attr, unsigned int size)
{
	long r = syscall(__NR_bpf, cmd, attr, size);

	return r < 0 ? -errno : (int)r;
}

static inline void *skel_alloc(size_t size)
{
	return calloc(1, size);
}

static inline void skel_free(const void *p)
{
	free((void *)p);
}

static inline void skel_closenz(int fd)
{
	if (fd > 0)
		close(fd);
}

static inline void *bpfsign_mmap(void *addr, size_t len, int prot, int flags, int fd)
{
	long r = syscall(__NR_mmap, addr, len, prot, flags, fd, 0L);

	if (r == -1)
		return NULL;
	return (void *)r;
}

/* Anonymous private mapping holding the initial image until load(). */
static inline void *skel_prep_map_data(const void *val, size_t mmap_sz, size_t val_sz)
{
	void *addr = bpfsign_mmap(NULL, mmap_sz, PROT_READ | PROT_WRITE,
				  BPFSIGN_MAP_PRIVATE | BPFSIGN_MAP_ANONYMOUS, -1);

	if (!addr)
		return NULL;
	memcpy(addr, val, val_sz);
	return addr;
}

/* Replace the initial image by a shared mapping of the created map, at the same address. */
static inline void *skel_finalize_map_data(__u64 *init_val, size_t mmap_sz, int flags, int fd)
{
	return bpfsign_mmap((void *)(long)*init_val, mmap_sz, flags,
			    BPFSIGN_MAP_SHARED | BPFSIGN_MAP_FIXED, fd);
}

static inline void skel_free_map_data(void *p, __u64 addr, size_t sz)
{
	(void)addr;
	if (p)
		syscall(__NR_munmap, p, sz);
}

static inline int skel_raw_tracepoint_open(const char *name, int prog_fd)
{
	union bpfsign_attr a;

	memset(&a, 0, sizeof(a));
	bpfsign_put64(&a, 0, (__u64)(unsigned long)name);	/* raw_tracepoint.name */
	bpfsign_put32(&a, 8, (__u32)prog_fd);			/* raw_tracepoint.prog_fd */
	return bpfsign_sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a, 12);
}

static inline int skel_link_create(int prog_fd, int target_fd, enum bpf_attach_type attach_type)
{
	union bpfsign_attr a;

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, (__u32)prog_fd);		/* link_create.prog_fd */
	bpfsign_put32(&a, 4, (__u32)target_fd);		/* link_create.target_fd */
	bpfsign_put32(&a, 8, (__u32)attach_type);	/* link_create.attach_type */
	return bpfsign_sys_bpf(BPF_LINK_CREATE, &a, 16);
}

static inline int bpf_load_and_run(struct bpf_load_and_run_opts *opts)
{
	static const char license[] = "Dual BSD/GPL";
	union bpfsign_attr a;
	unsigned char info[104];
	unsigned char sha[32];
	int map_fd = -1, prog_fd = -1, key = 0, err;
	const int signed_load = opts->signature != NULL;

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, BPF_MAP_TYPE_ARRAY);		/* map_type */
	bpfsign_put32(&a, 4, 4);				/* key_size */
	bpfsign_put32(&a, 8, opts->data_sz);			/* value_size */
	bpfsign_put32(&a, 12, 1);				/* max_entries */
	memcpy(&a.b[28], "__loader.map", 12);			/* map_name */
	if (opts->excl_prog_hash) {
		bpfsign_put64(&a, 80, (__u64)(unsigned long)opts->excl_prog_hash);
		bpfsign_put32(&a, 88, opts->excl_prog_hash_sz);
	}
	err = bpfsign_sys_bpf(BPF_MAP_CREATE, &a, opts->excl_prog_hash ? 92 : 72);
	if (err < 0) {
		opts->errstr = "failed to create loader map";
		goto out;
	}
	map_fd = err;

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, (__u32)map_fd);
	bpfsign_put64(&a, 8, (__u64)(unsigned long)&key);
	bpfsign_put64(&a, 16, (__u64)(unsigned long)opts->data);
	err = bpfsign_sys_bpf(BPF_MAP_UPDATE_ELEM, &a, 32);
	if (err < 0) {
		opts->errstr = "failed to update loader map";
		goto out;
	}

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, (__u32)map_fd);
	err = bpfsign_sys_bpf(BPF_MAP_FREEZE, &a, 4);
	if (err < 0) {
		opts->errstr = "failed to freeze loader map";
		goto out;
	}

	if (signed_load) {
		/* struct bpf_map_info: hash pointer at 88, hash_size at 96 (Linux 6.18). */
		memset(info, 0, sizeof(info));
		memset(sha, 0, sizeof(sha));
		{
			__u64 p = (__u64)(unsigned long)sha;
			__u32 n = sizeof(sha);

			memcpy(&info[88], &p, sizeof(p));
			memcpy(&info[96], &n, sizeof(n));
		}
		memset(&a, 0, sizeof(a));
		bpfsign_put32(&a, 0, (__u32)map_fd);		/* info.bpf_fd */
		bpfsign_put32(&a, 4, sizeof(info));		/* info.info_len */
		bpfsign_put64(&a, 8, (__u64)(unsigned long)info);	/* info.info */
		err = bpfsign_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, 16);
		if (err < 0) {
			opts->errstr = "failed to get loader map info";
			goto out;
		}
	}

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, BPF_PROG_TYPE_SYSCALL);		/* prog_type */
	bpfsign_put32(&a, 4, opts->insns_sz / 8);		/* insn_cnt */
	bpfsign_put64(&a, 8, (__u64)(unsigned long)opts->insns);
	bpfsign_put64(&a, 16, (__u64)(unsigned long)license);
	bpfsign_put32(&a, 24, opts->ctx->log_level);
	bpfsign_put32(&a, 28, opts->ctx->log_size);
	bpfsign_put64(&a, 32, opts->ctx->log_buf);
	bpfsign_put32(&a, 44, BPF_F_SLEEPABLE);		/* prog_flags */
	memcpy(&a.b[48], "__loader.prog", 13);			/* prog_name */
	bpfsign_put64(&a, 120, (__u64)(unsigned long)&map_fd);	/* fd_array */
	if (signed_load) {
		bpfsign_put64(&a, 152, (__u64)(unsigned long)opts->signature);
		bpfsign_put32(&a, 160, opts->signature_sz);
		bpfsign_put32(&a, 164, (__u32)opts->keyring_id);
	}
	err = bpfsign_sys_bpf(BPF_PROG_LOAD, &a, signed_load ? 168 : 128);
	if (err < 0) {
		opts->errstr = "failed to load loader prog";
		goto out;
	}
	prog_fd = err;

	memset(&a, 0, sizeof(a));
	bpfsign_put32(&a, 0, (__u32)prog_fd);			/* test.prog_fd */
	bpfsign_put32(&a, 40, opts->ctx->sz);			/* test.ctx_size_in */
	bpfsign_put64(&a, 48, (__u64)(unsigned long)opts->ctx);	/* test.ctx_in */
	err = bpfsign_sys_bpf(BPF_PROG_TEST_RUN, &a, 80);
	if (err < 0 || (int)bpfsign_get32(&a, 4) < 0) {
		opts->errstr = "failed to execute loader prog";
		if (err >= 0)
			err = (int)bpfsign_get32(&a, 4);	/* test.retval: -errno */
		goto out;
	}
	err = 0;
out:
	if (map_fd >= 0)
		close(map_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	if (err < 0)
		errno = -err;
	return err;
}
#endif /* __BPFSIGN_LSKEL_RUNTIME__ */
`;
/** C text of the standalone runtime (ends with a newline). */
export function lskelRuntime() {
    return RUNTIME;
}
//# sourceMappingURL=lskel-runtime.js.map