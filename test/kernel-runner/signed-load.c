/*
 * Signed-load probe for linux-6.18 loaders (bpfsign tests).
 *
 *   signed-load CERT.der INSNS.bin DATA.bin SIG.p7s EXCL.bin NR_MAPS NR_PROGS
 *
 * Follows what bpftool `prog load -L -S` and libbpf v1.7's bpf_load_and_run do for a signed
 * light skeleton, step by step, and prints one JSON object on stdout with what the kernel
 * answered at every step:
 *
 *  1. "key": joins a new anonymous session keyring (so nothing outlives this process) and
 *     registers the certificate with add_key("asymmetric", ..., KEY_SPEC_SESSION_KEYRING).
 *  2. "signed": the metadata map as libbpf prepares it (create with excl_prog_hash = EXCL.bin,
 *     update, freeze, BPF_OBJ_GET_INFO_BY_FD with bpf_map_info.hash), via runner-ext.h.
 *  3. "signed_loads": BPF_PROG_LOAD (attr size 168) carrying signature / signature_size /
 *     keyring_id, for several keyrings; then the same attr passed with a shorter attr size
 *     (the signature fields cut off) and a longer one (non-zero bytes past the kernel's attr).
 *  4. "unsigned": the same loader without the signature fields on the same map, run with
 *     BPF_PROG_RUN and a skeleton ctx of NR_MAPS map descs and NR_PROGS prog slots; the maps
 *     and programs the loader created are reported with their kernel ids, types and names.
 *
 * Exit status 0 when the JSON was printed, 2 on usage or IO errors.
 */
#include <linux/keyctl.h>
#include <limits.h>

#include "common.h"
#include "runner-ext.h"

/* The BPF_PROG_LOAD variant of union bpf_attr up to keyring_id (Linux 6.18 layout). */
struct prog_load_attr {
	__u32 prog_type, insn_cnt;
	__u64 insns, license;
	__u32 log_level, log_size;
	__u64 log_buf;
	__u32 kern_version, prog_flags;
	char prog_name[16];
	__u32 prog_ifindex, expected_attach_type, prog_btf_fd, func_info_rec_size;
	__u64 func_info;
	__u32 func_info_cnt, line_info_rec_size;
	__u64 line_info;
	__u32 line_info_cnt, attach_btf_id, attach_prog_fd, core_relo_cnt;
	__u64 fd_array, core_relos;
	__u32 core_relo_rec_size, log_true_size;
	__s32 prog_token_fd;
	__u32 fd_array_cnt;
	__u64 signature;
	__u32 signature_size;
	__s32 keyring_id;
} __attribute__((aligned(8)));
#define PROG_LOAD_ATTR_SZ 168
_Static_assert(__builtin_offsetof(struct prog_load_attr, prog_name) == 48, "prog_name at 48");
_Static_assert(__builtin_offsetof(struct prog_load_attr, fd_array) == 120, "fd_array at 120");
_Static_assert(__builtin_offsetof(struct prog_load_attr, fd_array_cnt) == 148, "fd_array_cnt at 148");
_Static_assert(__builtin_offsetof(struct prog_load_attr, signature) == 152, "signature at 152");
_Static_assert(__builtin_offsetof(struct prog_load_attr, signature_size) == 160, "signature_size at 160");
_Static_assert(__builtin_offsetof(struct prog_load_attr, keyring_id) == 164, "keyring_id at 164");
_Static_assert(sizeof(struct prog_load_attr) == PROG_LOAD_ATTR_SZ, "168 bytes");

static void loader_attr(struct prog_load_attr *a, const unsigned char *insns, size_t insns_sz, const int *map_fd)
{
	memset(a, 0, sizeof(*a));
	a->prog_type = BPF_PROG_TYPE_SYSCALL;
	a->insns = (unsigned long)insns;
	a->insn_cnt = insns_sz / 8;
	a->license = (unsigned long)license;
	a->prog_flags = BPF_F_SLEEPABLE;
	strcpy(a->prog_name, "__loader.prog");
	a->fd_array = (unsigned long)map_fd;
}

/* One BPF_PROG_LOAD with attr size `size` from a buffer that may be longer than the attr. */
static void try_load(const char *name, const void *buf, unsigned int size, const struct prog_load_attr *a, int first)
{
	long fd = sys_bpf(BPF_PROG_LOAD, (void *)buf, size);
	int err = fd < 0 ? errno : 0;

	printf("%s{\"case\":\"%s\",\"attr_size\":%u,\"keyring_id\":%d,\"signature_size\":%u,\"with_signature\":%s,"
	       "\"fd_ok\":%s,\"errno\":%d,\"strerror\":",
	       first ? "" : ",", name, size, a->keyring_id, a->signature_size, a->signature ? "true" : "false",
	       fd >= 0 ? "true" : "false", err);
	json_name(err ? strerror(err) : "", 80);
	printf("}");
	if (fd >= 0)
		close((int)fd);
}

/*
 * The opening of a map or program entry, {"index":I,"fd_ok":B; then its info into *info.
 * Returns 0 with the info read, or -1: fd empty, or "info_errno" printed. The caller closes it.
 */
static int report_head(int i, int fd, void *info, __u32 len)
{
	printf("%s{\"index\":%d,\"fd_ok\":%s", i ? "," : "", i, fd > 0 ? "true" : "false");
	if (fd <= 0)
		return -1;
	if (obj_info(fd, info, len) < 0) {
		printf(",\"info_errno\":%d", errno);
		return -1;
	}
	return 0;
}

static void report_map(int i, int fd)
{
	struct bpf_map_info info;

	if (report_head(i, fd, &info, sizeof(info)) == 0) {
		printf(",\"id\":%u,\"type\":%u,\"max_entries\":%u,\"name\":", info.id, info.type, info.max_entries);
		json_name(info.name, sizeof(info.name));
	}
	printf("}");
}

static void report_prog(int i, int fd)
{
	struct bpf_prog_info info;

	if (report_head(i, fd, &info, sizeof(info)) == 0) {
		printf(",\"id\":%u,\"type\":%u,\"name\":", info.id, info.type);
		json_name(info.name, sizeof(info.name));
	}
	printf("}");
}

int main(int argc, char **argv)
{
	unsigned char *cert, *insns, *data, *sig, *excl;
	size_t cert_sz, insns_sz, data_sz, sig_sz, excl_sz;
	unsigned char longer[PROG_LOAD_ATTR_SZ + 8];
	struct prog_load_attr a;
	struct signed_report srep;
	struct skel_ctx ctx;
	__u32 retval;
	const char *stage = "ok";
	int nr_maps, nr_progs, map_fd, prog_fd = -1, err = 0, i;
	long serial, join;
	int add_errno = 0, join_errno = 0, run_errno = 0, load_errno = 0;

	if (argc != 8) {
		fprintf(stderr, "usage: signed-load CERT.der INSNS.bin DATA.bin SIG.p7s EXCL.bin NR_MAPS NR_PROGS\n");
		return 2;
	}
	cert = read_file(argv[1], &cert_sz);
	insns = read_file(argv[2], &insns_sz);
	data = read_file(argv[3], &data_sz);
	sig = read_file(argv[4], &sig_sz);
	excl = read_file(argv[5], &excl_sz);
	nr_maps = atoi(argv[6]);
	nr_progs = atoi(argv[7]);
	if (!cert || !insns || !data || !sig || !excl || excl_sz != 32 || insns_sz % 8 || nr_maps < 0 ||
	    nr_progs < 0 || nr_maps > MAX_OBJS || nr_progs > MAX_OBJS) {
		fprintf(stderr, "signed-load: cannot read inputs or bad sizes\n");
		return 2;
	}

	/* 1. a fresh session keyring, then the certificate as an asymmetric key in it */
	join = syscall(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
	if (join < 0)
		join_errno = errno;
	serial = syscall(__NR_add_key, "asymmetric", "bpfsign test signing certificate", cert, cert_sz,
			 KEY_SPEC_SESSION_KEYRING);
	if (serial < 0)
		add_errno = errno;
	printf("{\"key\":{\"session_keyring\":%ld,\"join_errno\":%d,\"serial\":%ld,\"errno\":%d,\"strerror\":", join,
	       join_errno, serial < 0 ? 0 : serial, add_errno);
	json_name(add_errno ? strerror(add_errno) : "", 80);
	printf(",\"note\":\"%s\"}",
	       add_errno == ENODEV ? "the asymmetric key type is missing (CONFIG_ASYMMETRIC_KEY_TYPE not set)" :
	       add_errno == ENOPKG ? "the certificate's key or signature algorithm is not built in" :
	       add_errno == EBADMSG ? "the kernel's X.509 parser refused the certificate" :
	       add_errno ? "add_key failed" : "registered");

	/* 2. the metadata map: create + excl_prog_hash, update, freeze, hash */
	memset(&srep, 0, sizeof(srep));
	map_fd = signed_metadata_map(data, data_sz, excl, &srep, &stage, &err);
	print_signed(&srep);
	if (map_fd < 0 || strcmp(stage, "ok")) {
		printf(",\"stage\":\"%s\",\"errno\":%d}\n", stage, err);
		return 0;
	}

	/* 3. BPF_PROG_LOAD with the signature fields */
	printf(",\"signed_loads\":[");
	loader_attr(&a, insns, insns_sz, &map_fd);
	a.signature = (unsigned long)sig;
	a.signature_size = sig_sz;
	a.keyring_id = KEY_SPEC_SESSION_KEYRING;
	try_load("session_keyring", &a, PROG_LOAD_ATTR_SZ, &a, 1);
	if (serial > 0) {
		a.keyring_id = (__s32)serial;
		try_load("key_serial", &a, PROG_LOAD_ATTR_SZ, &a, 0);
	}
	a.keyring_id = 0;
	try_load("builtin_trusted_keys", &a, PROG_LOAD_ATTR_SZ, &a, 0);
	a.keyring_id = INT_MAX;
	try_load("no_such_keyring", &a, PROG_LOAD_ATTR_SZ, &a, 0);
	/* the same signature with its last byte changed, to the session keyring */
	a.keyring_id = KEY_SPEC_SESSION_KEYRING;
	sig[sig_sz - 1] ^= 0x01;
	try_load("corrupted_signature", &a, PROG_LOAD_ATTR_SZ, &a, 0);
	sig[sig_sz - 1] ^= 0x01;
	/* attr size offsetofend(fd_array_cnt): the kernel never sees the signature fields */
	try_load("signature_cut_off", &a, __builtin_offsetof(struct prog_load_attr, signature), &a, 0);
	/* attr size 176, the 8 bytes past the 168-byte attr zero, then one of them non-zero */
	memset(longer, 0, sizeof(longer));
	memcpy(longer, &a, sizeof(a));
	try_load("longer_attr_zero_tail", longer, sizeof(longer), &a, 0);
	longer[PROG_LOAD_ATTR_SZ + 3] = 1;
	try_load("longer_attr_nonzero_tail", longer, sizeof(longer), &a, 0);
	a.signature = 0;
	a.signature_size = 0;
	a.keyring_id = 0;
	memcpy(longer, &a, sizeof(a));
	try_load("unsigned_longer_attr_nonzero_tail", longer, sizeof(longer), &a, 0);
	printf("]");

	/* 4. the same loader without the signature fields, run with a skeleton ctx */
	if (skel_ctx_alloc(&ctx, nr_maps, nr_progs) < 0)
		return 2;
	loader_attr(&a, insns, insns_sz, &map_fd);
	prog_fd = sys_bpf(BPF_PROG_LOAD, &a, PROG_LOAD_ATTR_SZ);
	if (prog_fd < 0)
		load_errno = errno;
	printf(",\"unsigned\":{\"load_errno\":%d", load_errno);
	if (prog_fd >= 0) {
		if (run_with_ctx(prog_fd, &ctx, &retval) < 0)
			run_errno = errno;
		printf(",\"run_errno\":%d,\"retval\":%d", run_errno, run_errno ? 0 : (int)retval);
		close(prog_fd);
	}
	printf(",\"maps\":[");
	for (i = 0; i < nr_maps; i++)
		report_map(i, ctx.maps[i].map_fd);
	printf("],\"progs\":[");
	for (i = 0; i < nr_progs; i++)
		report_prog(i, ctx.progs[i]);
	printf("]}}\n");
	skel_ctx_close(&ctx, nr_maps, nr_progs);
	close(map_fd);
	return 0;
}
