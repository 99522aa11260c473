/*
 * Peer for the object-parse benchmark: libbpf's bpf_object__open_mem() of one object,
 * repeated in process; prints {"median_ms":…,"runs":…} (open only, no bpf() calls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/libbpf.h>

static int silent(enum libbpf_print_level l, const char *f, va_list ap) { (void)l; (void)f; (void)ap; return 0; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 200;
	double *ms = calloc(runs, sizeof(*ms));
	FILE *f = fopen(argv[1], "rb");
	long sz;
	char *buf;
	struct timespec a, b;

	if (!f || !ms) return 1;
	fseek(f, 0, SEEK_END); sz = ftell(f); rewind(f);
	buf = malloc(sz);
	if (fread(buf, 1, sz, f) != (size_t)sz) return 1;
	fclose(f);
	libbpf_set_print(silent);
	for (int i = -10; i < runs; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		struct bpf_object *obj = bpf_object__open_mem(buf, sz, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!obj) { printf("{\"error\":\"open failed\"}\n"); return 1; }
		bpf_object__close(obj);
		if (i >= 0) ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(ms, runs, sizeof(*ms), cmp);
	printf("{\"median_ms\":%.4f,\"runs\":%d}\n", ms[runs / 2], runs);
	return 0;
}
