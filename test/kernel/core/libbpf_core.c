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
 * Output: one JSON object per line: {"prog":NAME,"insns":["<16 hex>",...]}, then
 * {"load":ERR}.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
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

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (getenv("LIBBPF_CORE_DEBUG")) return vfprintf(stderr, fmt, ap);
	(void)level; (void)fmt; (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ TARGET_BTF\n", argv[0]);
		return 2;
	}
	opts.btf_custom_path = argv[2];
	libbpf_set_print(silent);
	the_obj = bpf_object__open_file(argv[1], &opts);
	if (!the_obj) {
		printf("{\"open\":%d}\n", -errno);
		return 0;
	}
	err = bpf_object__load(the_obj);
	printf("{\"load\":%d}\n", err);
	fflush(stdout);
	bpf_object__close(the_obj);
	return 0;
}
