/*
 * Kernel runner extensions (included by runner.c and signed-load.c): PROG_ARRAY slot ids, the signed-loader
 * metadata map sequence of libbpf v1.7's skel_internal.h, and pinning maps to bpffs.
 *
 * Debian's UAPI headers predate Linux 6.18, so the two structures the signed sequence needs
 * (the BPF_MAP_CREATE attr with excl_prog_hash, bpf_map_info with hash/hash_size) are
 * declared here with their 6.18 layout, checked by offset.
 */
#ifndef RUNNER_EXT_H
#define RUNNER_EXT_H

#include "common.h"

/* BPF_MAP_CREATE attr up to excl_prog_hash_size. */
struct map_create_excl {
	__u32 map_type, key_size, value_size, max_entries, map_flags, inner_map_fd, numa_node;
	char map_name[16];
	__u32 map_ifindex, btf_fd, btf_key_type_id, btf_value_type_id, btf_vmlinux_value_type_id;
	__u64 map_extra;
	__s32 value_type_btf_obj_fd, map_token_fd;
	__u64 excl_prog_hash;
	__u32 excl_prog_hash_size;
} __attribute__((aligned(8)));
#define MAP_CREATE_EXCL_SZ 92
_Static_assert(__builtin_offsetof(struct map_create_excl, map_name) == 28, "map_name at 28");
_Static_assert(__builtin_offsetof(struct map_create_excl, map_extra) == 64, "map_extra at 64");
_Static_assert(__builtin_offsetof(struct map_create_excl, excl_prog_hash) == 80, "excl_prog_hash at 80");
_Static_assert(__builtin_offsetof(struct map_create_excl, excl_prog_hash_size) == 88, "excl_prog_hash_size at 88");

/* struct bpf_map_info with hash/hash_size. */
struct map_info_hash {
	__u32 type, id, key_size, value_size, max_entries, map_flags;
	char name[16];
	__u32 ifindex, btf_vmlinux_value_type_id;
	__u64 netns_dev, netns_ino;
	__u32 btf_id, btf_key_type_id, btf_value_type_id, btf_vmlinux_id;
	__u64 map_extra;
	__u64 hash;
	__u32 hash_size, pad;
} __attribute__((aligned(8)));
_Static_assert(__builtin_offsetof(struct map_info_hash, map_extra) == 80, "map_extra at 80");
_Static_assert(__builtin_offsetof(struct map_info_hash, hash) == 88, "hash at 88");
_Static_assert(sizeof(struct map_info_hash) == 104, "bpf_map_info is 104 bytes");

/* Program ids in a PROG_ARRAY's slots: 0 when empty (ENOENT), -errno when the lookup fails. */
static void prog_array_ids(int fd, __u32 max_entries)
{
	union bpf_attr a;
	__u32 key, id;

	printf(",\"prog_ids\":[");
	for (key = 0; key < max_entries && key < MAX_OBJS; key++) {
		memset(&a, 0, sizeof(a));
		id = 0;
		a.map_fd = fd;
		a.key = (unsigned long)&key;
		a.value = (unsigned long)&id;
		if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) < 0)
			printf("%s%d", key ? "," : "", errno == ENOENT ? 0 : -errno);
		else
			printf("%s%u", key ? "," : "", id);
	}
	printf("]");
}

/* What the signed sequence saw, printed as "signed":{...}. */
struct signed_report {
	int excl_requested;
	int excl_errno;		/* 0: the kernel took excl_prog_hash */
	int freeze_errno;
	int hash_errno;		/* BPF_OBJ_GET_INFO_BY_FD with info.hash */
	unsigned char hash[32];
};

/*
 * create (+ excl_prog_hash) → update → freeze → OBJ_GET_INFO_BY_FD(hash): the metadata map as
 * libbpf v1.7's bpf_load_and_run prepares it. Returns the map fd or -1 with *stage set.
 */
static int signed_metadata_map(const unsigned char *data, size_t data_sz, const unsigned char *excl,
			       struct signed_report *rep, const char **stage, int *err)
{
	struct map_create_excl c;
	struct map_info_hash info;
	union bpf_attr a;
	int fd;

	memset(&c, 0, sizeof(c));
	c.map_type = BPF_MAP_TYPE_ARRAY;
	c.key_size = 4;
	c.value_size = data_sz;
	c.max_entries = 1;
	strcpy(c.map_name, "__loader.map");
	rep->excl_requested = excl != NULL;
	if (excl) {
		c.excl_prog_hash = (unsigned long)excl;
		c.excl_prog_hash_size = 32;
	}
	fd = sys_bpf(BPF_MAP_CREATE, &c, MAP_CREATE_EXCL_SZ);
	if (fd < 0 && excl) {
		rep->excl_errno = errno;
		c.excl_prog_hash = 0;
		c.excl_prog_hash_size = 0;
		fd = sys_bpf(BPF_MAP_CREATE, &c, MAP_CREATE_EXCL_SZ);
	}
	if (fd < 0) {
		*stage = "map_create";
		*err = errno;
		return -1;
	}
	if (map_update0(fd, data) < 0) {
		*stage = "map_update";
		*err = errno;
		return fd;
	}
	if (map_freeze(fd) < 0)
		rep->freeze_errno = errno;
	memset(&info, 0, sizeof(info));
	info.hash = (unsigned long)rep->hash;
	info.hash_size = 32;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) < 0)
		rep->hash_errno = errno;
	return fd;
}

static void print_signed(const struct signed_report *rep)
{
	printf(",\"signed\":{\"excl_requested\":%s,\"excl_errno\":%d,\"freeze_errno\":%d,\"hash_errno\":%d,\"hash\":",
	       rep->excl_requested ? "true" : "false", rep->excl_errno, rep->freeze_errno, rep->hash_errno);
	hex(rep->hash, sizeof(rep->hash));
	printf("}");
}

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info;

	return obj_info(fd, &info, sizeof(info)) < 0 ? 0 : info.id;
}

/* Pin map fd at path, get it back, compare ids, unlink; prints one JSON object. */
static void pin_map(int idx, int fd, const char *path, int first)
{
	union bpf_attr a;
	int got, pin_errno = 0, get_errno = 0, same = 0;

	printf("%s{\"index\":%d,\"path\":", first ? "" : ",", idx);
	json_name(path, 4096);
	if (fd <= 0) {
		printf(",\"pin_errno\":%d}", EBADF);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)path;
	a.bpf_fd = fd;
	if (sys_bpf(BPF_OBJ_PIN, &a, sizeof(a)) < 0) {
		pin_errno = errno;
	} else {
		memset(&a, 0, sizeof(a));
		a.pathname = (unsigned long)path;
		got = sys_bpf(BPF_OBJ_GET, &a, sizeof(a));
		if (got < 0) {
			get_errno = errno;
		} else {
			same = map_id_of(got) == map_id_of(fd) && map_id_of(fd) != 0;
			close(got);
		}
		unlink(path);
	}
	printf(",\"pin_errno\":%d,\"get_errno\":%d,\"same_map\":%s}", pin_errno, get_errno, same ? "true" : "false");
}

#endif
