/*
 * Oracle for the object spec: opens a BPF object with the system's libbpf (no bpf()
 * calls: open only) and prints what libbpf found as JSON — maps and programs with their
 * attributes, in libbpf's order. Built and run by test/loader/object/libbpf.test.ts.
 *
 *   gcc -O1 -o libbpf_open libbpf_open.c -lbpf && ./libbpf_open OBJ [OBJ_NAME]
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <bpf/libbpf.h>

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\') putchar('\\');
		if ((unsigned char)*s < 0x20) printf("\\u%04x", *s); else putchar(*s);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int first;
	LIBBPF_OPTS(bpf_object_open_opts, opts);

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ [NAME]\n", argv[0]);
		return 2;
	}
	if (argc > 2) opts.object_name = argv[2];
	libbpf_set_print(silent);
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		printf("{\"error\":%d}\n", -errno);
		return 0;
	}
	printf("{\"name\":"); json_str(bpf_object__name(obj));
	printf(",\"maps\":[");
	first = 1;
	bpf_object__for_each_map(map, obj) {
		printf("%s{\"name\":", first ? "" : ","); first = 0;
		json_str(bpf_map__name(map));
		printf(",\"type\":%d,\"keySize\":%u,\"valueSize\":%u,\"maxEntries\":%u,\"flags\":%u,\"numaNode\":%u,\"mapExtra\":\"%llu\",\"internal\":%s,\"btfKey\":%u,\"btfValue\":%u}",
		       bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map),
		       bpf_map__map_flags(map), bpf_map__numa_node(map), (unsigned long long)bpf_map__map_extra(map),
		       bpf_map__is_internal(map) ? "true" : "false", bpf_map__btf_key_type_id(map), bpf_map__btf_value_type_id(map));
	}
	printf("],\"programs\":[");
	first = 1;
	bpf_object__for_each_program(prog, obj) {
		printf("%s{\"name\":", first ? "" : ","); first = 0;
		json_str(bpf_program__name(prog));
		printf(",\"section\":"); json_str(bpf_program__section_name(prog));
		printf(",\"type\":%d,\"expectedAttachType\":%d,\"autoload\":%s,\"insns\":%zu,\"flags\":%u}",
		       bpf_program__type(prog), bpf_program__expected_attach_type(prog),
		       bpf_program__autoload(prog) ? "true" : "false", bpf_program__insn_cnt(prog), bpf_program__flags(prog));
	}
	printf("]}\n");
	bpf_object__close(obj);
	return 0;
}
