/*
 * Shared by runner.c and signed-load.c: the bpf() wrapper, file reading, JSON printing, the
 * light-skeleton ctx layout, and the few bpf() calls both make the same way.
 */
#ifndef KERNEL_RUNNER_COMMON_H
#define KERNEL_RUNNER_COMMON_H

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJS 1024

static const char license[] = "Dual BSD/GPL";

/* The skeleton ctx: this header, then NR_MAPS map descs, then NR_PROGS prog fds. */
struct ctx_hdr {
	__u32 sz, flags, log_level, log_size;
	__u64 log_buf;
};

struct map_desc {
	int map_fd;
	__u32 max_entries;
	__u64 initial_value;
};

struct skel_ctx {
	unsigned char *buf;
	size_t sz;
	struct ctx_hdr *hdr;
	struct map_desc *maps;
	int *progs;
};

static long sys_bpf(int cmd, void *attr, unsigned int size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void json_name(const char *s, size_t max)
{
	size_t i;

	putchar('"');
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void hex(const unsigned char *p, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('"');
}

/* A zeroed ctx for nr_maps map descs and nr_progs prog slots; 0, or -1 when out of memory. */
static int skel_ctx_alloc(struct skel_ctx *c, int nr_maps, int nr_progs)
{
	c->sz = sizeof(struct ctx_hdr) + nr_maps * sizeof(struct map_desc) + nr_progs * sizeof(int);
	c->buf = calloc(1, c->sz + 8);
	if (!c->buf)
		return -1;
	c->hdr = (struct ctx_hdr *)c->buf;
	c->maps = (struct map_desc *)(c->buf + sizeof(struct ctx_hdr));
	c->progs = (int *)(c->buf + sizeof(struct ctx_hdr) + nr_maps * sizeof(struct map_desc));
	c->hdr->sz = c->sz;
	return 0;
}

/* Close every map and program fd the loader wrote into the ctx. */
static void skel_ctx_close(const struct skel_ctx *c, int nr_maps, int nr_progs)
{
	int i;

	for (i = 0; i < nr_maps; i++)
		if (c->maps[i].map_fd > 0)
			close(c->maps[i].map_fd);
	for (i = 0; i < nr_progs; i++)
		if (c->progs[i] > 0)
			close(c->progs[i]);
}

/* BPF_OBJ_GET_INFO_BY_FD into a zeroed info of len bytes (bpf_map_info, bpf_prog_info, ...). */
static long obj_info(int fd, void *info, __u32 len)
{
	union bpf_attr a;

	memset(info, 0, len);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = len;
	a.info.info = (unsigned long)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

/* Element 0 of a map set to value (flags BPF_ANY). */
static long map_update0(int fd, const void *value)
{
	union bpf_attr a;
	int key = 0;

	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)value;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static long map_freeze(int fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	return sys_bpf(BPF_MAP_FREEZE, &a, sizeof(a));
}

/* BPF_PROG_TEST_RUN of prog_fd with ctx as ctx_in; the program's return value in *retval. */
static long run_with_ctx(int prog_fd, const struct skel_ctx *c, __u32 *retval)
{
	union bpf_attr a;
	long r;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = prog_fd;
	a.test.ctx_in = (unsigned long)c->buf;
	a.test.ctx_size_in = c->sz;
	r = sys_bpf(BPF_PROG_TEST_RUN, &a, sizeof(a));
	*retval = a.test.retval;
	return r;
}

#endif
