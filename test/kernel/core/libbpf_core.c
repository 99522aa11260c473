/*
 * Oracle for CO-RE relocation: lets Debian's libbpf prepare and "load" a BPF
 * object with btf_custom_path pointing at a target BTF, and prints the
 * instructions libbpf hands to BPF_PROG_LOAD for each program (after CO-RE
 * relocation, subprogram linking and map fd patching). BPF_PROG_LOAD is
 * intercepted by defining syscall(): the programs never reach the kernel (a
 * dup of /dev/null stands in for their fd); every other bpf() call (feature
 * probes, BTF and map creation) goes to the real kernel.
 *
 *   gcc -O1 -o libbpf_core libbpf_core.c -lbpf -ldl && ./libbpf_core OBJ TARGET_BTF
 *
 * LIBBPF_CORE_EXTRA_KSYMS="a,b" appends fake /proc/kallsyms lines for typeless ksyms
 * the running kernel does not list (libbpf refuses the object otherwise, before CO-RE).
 *
 * Output: one JSON object per line: {"prog":NAME,"insns":["<16 hex>",...]} for each
 * program libbpf submits, and {"only":I,"load":ERR,"core_failed":BOOL} after each
 * per-program load (core_failed: libbpf's CO-RE stage itself failed).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

static struct bpf_object *the_obj;

static int is_object_prog(const char *name)
{
	struct bpf_program *p;

	if (!the_obj || !name[0])
		return 0;
	bpf_object__for_each_program(p, the_obj) {
		if (strncmp(bpf_program__name(p), name, BPF_OBJ_NAME_LEN - 1) == 0)
			return 1;
	}
	return 0;
}

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a1, a2, a3, a4, a5, a6;

	va_start(ap, number);
	a1 = va_arg(ap, long); a2 = va_arg(ap, long); a3 = va_arg(ap, long);
	a4 = va_arg(ap, long); a5 = va_arg(ap, long); a6 = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_bpf && a1 == BPF_PROG_LOAD) {
		union bpf_attr *attr = (union bpf_attr *)a2;
		char name[BPF_OBJ_NAME_LEN + 1];

		memset(name, 0, sizeof(name));
		memcpy(name, attr->prog_name, BPF_OBJ_NAME_LEN);
		if (is_object_prog(name)) {
			const unsigned char *b = (const unsigned char *)(unsigned long)attr->insns;
			unsigned i, j;

			printf("{\"prog\":\"%s\",\"insns\":[", name);
			for (i = 0; i < attr->insn_cnt; i++) {
				printf("%s\"", i ? "," : "");
				for (j = 0; j < 8; j++)
					printf("%02x", b[i * 8 + j]);
				printf("\"");
			}
			printf("]}\n");
			return open("/dev/null", O_RDONLY | O_CLOEXEC);
		}
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(number, a1, a2, a3, a4, a5, a6);
}

static FILE *open_kallsyms(const char *path, const char *mode, const char *which)
{
	FILE *(*real)(const char *, const char *);
	const char *extra = getenv("LIBBPF_CORE_EXTRA_KSYMS");

	real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, which);
	if (extra && strcmp(path, "/proc/kallsyms") == 0) {
		FILE *in = real(path, mode), *out = tmpfile();
		char line[512], names[1024], *tok, *save = NULL;
		unsigned long n = 0;

		if (!out)
			return in;
		while (in && fgets(line, sizeof(line), in))
			fputs(line, out);
		if (in)
			fclose(in);
		snprintf(names, sizeof(names), "%s", extra);
		for (tok = strtok_r(names, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			fprintf(out, "%016lx D %s\n", 0xffffffff90000000UL + 0x1000 * ++n, tok);
		rewind(out);
		return out;
	}
	return real(path, mode);
}

/* libbpf opens /proc/kallsyms with fopen64 (large-file build); cover both names. */
FILE *fopen(const char *path, const char *mode)
{
	return open_kallsyms(path, mode, "fopen");
}

FILE *fopen64(const char *path, const char *mode)
{
	return open_kallsyms(path, mode, "fopen64");
}

static int core_failed;

static int logger(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	(void)level;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strstr(msg, "failed to perform CO-RE relocations"))
		core_failed = 1;
	if (getenv("LIBBPF_CORE_DEBUG"))
		fputs(msg, stderr);
	return 0;
}

/* Opens OBJ and loads it with only program `only` (or all, if -1) autoloaded. */
static void load_one(const char *path, const char *btf, int only)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_program *p;
	int i = 0, err;

	opts.btf_custom_path = btf;
	core_failed = 0;
	the_obj = bpf_object__open_file(path, &opts);
	if (!the_obj) {
		printf("{\"open\":%d}\n", -errno);
		return;
	}
	bpf_object__for_each_program(p, the_obj) {
		if (only >= 0)
			bpf_program__set_autoload(p, i == only);
		i++;
	}
	err = bpf_object__load(the_obj);
	printf("{\"only\":%d,\"load\":%d,\"core_failed\":%s}\n", only, err, core_failed ? "true" : "false");
	fflush(stdout);
	bpf_object__close(the_obj);
	the_obj = NULL;
}

int main(int argc, char **argv)
{
	struct bpf_object *probe;
	struct bpf_program *p;
	int n = 0, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ TARGET_BTF\n", argv[0]);
		return 2;
	}
	libbpf_set_print(logger);
	/* One load per program, so one program's unrelated failure (missing attach
	 * target, kernel refusing its BTF) does not hide the others. */
	probe = bpf_object__open_file(argv[1], NULL);
	if (!probe) {
		printf("{\"open\":%d}\n", -errno);
		return 0;
	}
	bpf_object__for_each_program(p, probe)
		n++;
	bpf_object__close(probe);
	for (i = 0; i < n; i++)
		load_one(argv[1], argv[2], i);
	return 0;
}
