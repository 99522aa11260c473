/*
 * Kernel runner for generated loaders (bpfsign tests).
 *
 *   runner INSNS.bin DATA.bin NR_MAPS NR_PROGS [--max I N]... [--init I FILE]...
 *          [--signed [--excl HASH.bin]] [--pin I PATH]... [--log]
 *
 * Does what a light skeleton's bpf_load_and_run does (loader map create + update + freeze,
 * loader program load as BPF_PROG_TYPE_SYSCALL with fd_array = {map}, BPF_PROG_RUN with the
 * skeleton ctx), then inspects every map and program fd the loader wrote into the ctx with
 * BPF_OBJ_GET_INFO_BY_FD and prints one JSON object on stdout:
 *
 *   {"stage":..., "errno":..., "retval":..., "maps":[...], "progs":[...],
 *    "fds_before":N, "fds_after":N, "leaked_fds":N}
 *
 * "stage" is "ok" or the step that failed. --max sets a map's max_entries override in the
 * ctx, --init points its initial_value at the bytes of FILE. Exit status is 0 when the output
 * was printed (whatever the kernel said), 2 on usage/IO errors.
 *
 * --signed prepares the metadata map as libbpf v1.7's bpf_load_and_run does for signed loaders
 * (create with excl_prog_hash = HASH.bin when --excl is given, update, freeze, then
 * BPF_OBJ_GET_INFO_BY_FD with bpf_map_info.hash so the kernel caches map->sha); the report
 * gains "signed":{...}. --pin pins map I after the loader ran, gets it back, compares map ids
 * and unlinks PATH; the report gains "pins":[...]. Maps and programs report their kernel
 * "id"; PROG_ARRAY maps report "prog_ids" (the program id in each slot, 0 when empty).
 * --log gives the ctx a 64 KiB log buffer (log_level 1) that the loader passes to the
 * programs' BPF_PROG_LOAD; its tail is reported as "ctx_log_tail". The extensions live in
 * runner-ext.h, what runner.c shares with signed-load.c in common.h.
 */
#include <sys/mman.h>
#include <dirent.h>

#include "common.h"
#include "runner-ext.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* Frozen iff rewriting element 0 with its own value fails with EPERM (arrays only). */
static void map_contents(int fd, const struct bpf_map_info *info)
{
	union bpf_attr a;
	size_t vsz = info->value_size, total = (size_t)vsz * info->max_entries;
	unsigned char *val;
	__u32 key;
	int frozen = -1;

	if (info->type != BPF_MAP_TYPE_ARRAY || info->key_size != 4 || total > (1u << 20) || vsz == 0) {
		printf(",\"frozen\":null,\"contents\":null");
		return;
	}
	val = calloc(1, total);
	if (!val) {
		printf(",\"frozen\":null,\"contents\":null");
		return;
	}
	for (key = 0; key < info->max_entries; key++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = fd;
		a.key = (unsigned long)&key;
		a.value = (unsigned long)(val + (size_t)key * vsz);
		if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) < 0)
			break;
	}
	if (map_update0(fd, val) < 0)
		frozen = errno == EPERM ? 1 : -errno;
	else
		frozen = 0;
	if (frozen < 0)
		printf(",\"frozen\":null,\"update_errno\":%d", -frozen);
	else
		printf(",\"frozen\":%s", frozen ? "true" : "false");
	printf(",\"contents\":");
	hex(val, total);
	free(val);
}

/*
 * The opening of a map or program entry, {"index":I,"fd":FD; then its info into *info. Returns
 * 0 with the entry still open, or -1 with it closed: fd empty, or "info_errno" on failure.
 */
static int print_obj_head(int i, int fd, void *info, __u32 len)
{
	printf("%s{\"index\":%d,\"fd\":%d", i ? "," : "", i, fd);
	if (fd <= 0) {
		printf("}");
		return -1;
	}
	if (obj_info(fd, info, len) < 0) {
		printf(",\"info_errno\":%d}", errno);
		return -1;
	}
	return 0;
}

static void print_map(int i, int fd)
{
	struct bpf_map_info info;

	if (print_obj_head(i, fd, &info, sizeof(info)) < 0)
		return;
	printf(",\"id\":%u,\"name\":", info.id);
	json_name(info.name, sizeof(info.name));
	printf(",\"type\":%u,\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u,\"flags\":%u,\"btf_id\":%u",
	       info.type, info.key_size, info.value_size, info.max_entries, info.map_flags, info.btf_id);
	if (info.type == BPF_MAP_TYPE_PROG_ARRAY)
		prog_array_ids(fd, info.max_entries);
	map_contents(fd, &info);
	printf("}");
}

static void print_prog(int i, int fd)
{
	struct bpf_prog_info info;

	if (print_obj_head(i, fd, &info, sizeof(info)) < 0)
		return;
	printf(",\"id\":%u,\"name\":", info.id);
	json_name(info.name, sizeof(info.name));
	printf(",\"type\":%u,\"xlated_prog_len\":%u,\"jited_prog_len\":%u,\"tag\":", info.type, info.xlated_prog_len,
	       info.jited_prog_len);
	hex(info.tag, sizeof(info.tag));
	printf(",\"nr_map_ids\":%u,\"btf_id\":%u}", info.nr_map_ids, info.btf_id);
}

static int fail_usage(const char *msg)
{
	fprintf(stderr, "runner: %s\nusage: runner INSNS.bin DATA.bin NR_MAPS NR_PROGS [--max I N]... [--init I FILE]...\n"
		"       [--signed [--excl HASH.bin]] [--pin I PATH]... [--log]\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	unsigned char *insns, *data;
	size_t insns_sz, data_sz;
	struct skel_ctx ctx;
	struct ctx_hdr *hdr;
	struct map_desc *maps;
	int nr_maps, nr_progs, i, map_fd = -1, prog_fd = -1, fds_before, fds_after, err = 0;
	const char *stage = "ok";
	union bpf_attr a;
	__u32 retval = 0, run_retval;
	char log[4096];
	int is_signed = 0, nr_pins = 0, pin_idx[MAX_OBJS];
	const char *pin_path[MAX_OBJS];
	unsigned char *excl = NULL;
	struct signed_report srep;
	static char ctx_log[1 << 16];

	if (argc < 5)
		return fail_usage("missing arguments");
	insns = read_file(argv[1], &insns_sz);
	data = read_file(argv[2], &data_sz);
	if (!insns || !data)
		return fail_usage("cannot read insns/data");
	nr_maps = atoi(argv[3]);
	nr_progs = atoi(argv[4]);
	if (nr_maps < 0 || nr_progs < 0 || nr_maps > MAX_OBJS || nr_progs > MAX_OBJS || insns_sz % 8)
		return fail_usage("bad counts or insns size");

	if (skel_ctx_alloc(&ctx, nr_maps, nr_progs) < 0)
		return fail_usage("out of memory");
	hdr = ctx.hdr;
	maps = ctx.maps;

	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 2 < argc) {
			int idx = atoi(argv[i + 1]);

			if (idx < 0 || idx >= nr_maps)
				return fail_usage("--max index out of range");
			maps[idx].max_entries = strtoul(argv[i + 2], NULL, 0);
			i += 2;
		} else if (!strcmp(argv[i], "--init") && i + 2 < argc) {
			int idx = atoi(argv[i + 1]);
			size_t n;
			unsigned char *img;
			void *page;

			if (idx < 0 || idx >= nr_maps)
				return fail_usage("--init index out of range");
			img = read_file(argv[i + 2], &n);
			if (!img)
				return fail_usage("cannot read --init file");
			page = mmap(NULL, n + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (page == MAP_FAILED)
				return fail_usage("mmap failed");
			memcpy(page, img, n);
			free(img);
			maps[idx].initial_value = (unsigned long)page;
			i += 2;
		} else if (!strcmp(argv[i], "--signed")) {
			is_signed = 1;
		} else if (!strcmp(argv[i], "--log")) {
			hdr->log_level = 1;
			hdr->log_size = sizeof(ctx_log);
			hdr->log_buf = (unsigned long)ctx_log;
		} else if (!strcmp(argv[i], "--excl") && i + 1 < argc) {
			size_t n;

			excl = read_file(argv[i + 1], &n);
			if (!excl || n != 32)
				return fail_usage("--excl wants a 32-byte file");
			i += 1;
		} else if (!strcmp(argv[i], "--pin") && i + 2 < argc && nr_pins < MAX_OBJS) {
			pin_idx[nr_pins] = atoi(argv[i + 1]);
			if (pin_idx[nr_pins] < 0 || pin_idx[nr_pins] >= nr_maps)
				return fail_usage("--pin index out of range");
			pin_path[nr_pins++] = argv[i + 2];
			i += 2;
		} else {
			return fail_usage("unknown option");
		}
	}

	fds_before = count_fds();
	memset(&srep, 0, sizeof(srep));

	if (is_signed) {
		map_fd = signed_metadata_map(data, data_sz, excl, &srep, &stage, &err);
		if (map_fd < 0 || strcmp(stage, "ok"))
			goto out;
		goto load;
	}
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = data_sz;
	a.max_entries = 1;
	strcpy(a.map_name, "__loader.map");
	map_fd = sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (map_fd < 0) {
		stage = "map_create";
		err = errno;
		goto out;
	}
	if (map_update0(map_fd, data) < 0) {
		stage = "map_update";
		err = errno;
		goto out;
	}
	if (map_freeze(map_fd) < 0) {
		stage = "map_freeze";
		err = errno;
		goto out;
	}
load:
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SYSCALL;
	a.insns = (unsigned long)insns;
	a.insn_cnt = insns_sz / 8;
	a.license = (unsigned long)license;
	a.prog_flags = BPF_F_SLEEPABLE;
	strcpy(a.prog_name, "__loader.prog");
	a.fd_array = (unsigned long)&map_fd;
	prog_fd = sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
	if (prog_fd < 0) {
		err = errno;
		/* retry with a verifier log for the report */
		log[0] = 0;
		a.log_buf = (unsigned long)log;
		a.log_size = sizeof(log);
		a.log_level = 1;
		prog_fd = sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
		stage = "loader_load";
		if (prog_fd >= 0) {
			close(prog_fd);
			prog_fd = -1;
		}
		goto out;
	}
	if (run_with_ctx(prog_fd, &ctx, &run_retval) < 0) {
		stage = "loader_run";
		err = errno;
		goto out;
	}
	retval = run_retval;
	if ((int)retval < 0) {
		stage = "loader_retval";
		err = -(int)retval;
	}
out:
	if (map_fd >= 0)
		close(map_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	printf("{\"stage\":\"%s\",\"errno\":%d,\"retval\":%d", stage, err, (int)retval);
	if (!strcmp(stage, "loader_load")) {
		size_t n = strlen(log);

		printf(",\"log_tail\":");
		json_name(n > 600 ? log + n - 600 : log, 600);
	}
	if (is_signed)
		print_signed(&srep);
	if (hdr->log_buf && ctx_log[0]) {
		size_t n = strnlen(ctx_log, sizeof(ctx_log) - 1);

		printf(",\"ctx_log_tail\":");
		json_name(n > 600 ? ctx_log + n - 600 : ctx_log, 600);
	}
	printf(",\"maps\":[");
	for (i = 0; i < nr_maps; i++)
		print_map(i, maps[i].map_fd);
	printf("],\"progs\":[");
	for (i = 0; i < nr_progs; i++)
		print_prog(i, ctx.progs[i]);
	printf("]");
	if (nr_pins) {
		printf(",\"pins\":[");
		for (i = 0; i < nr_pins; i++)
			pin_map(pin_idx[i], maps[pin_idx[i]].map_fd, pin_path[i], i == 0);
		printf("]");
	}
	skel_ctx_close(&ctx, nr_maps, nr_progs);
	fds_after = count_fds();
	printf(",\"fds_before\":%d,\"fds_after\":%d,\"leaked_fds\":%d}\n", fds_before, fds_after, fds_after - fds_before);
	return 0;
}
