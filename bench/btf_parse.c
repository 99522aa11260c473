/*
 * Peer benchmark: libbpf's btf__parse() on a BTF file, N times in one
 * process (after one warm-up call). Prints the median and minimum wall time
 * per call in milliseconds as JSON.
 *
 * Build: gcc -O2 bench/btf_parse.c -lbpf -o btf_parse
 * Usage: btf_parse [path] [iterations]
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/sys/kernel/btf/vmlinux";
	int n = argc > 2 ? atoi(argv[2]) : 50;
	double *times;
	struct btf *btf;
	unsigned int types = 0;
	int i;

	if (n < 1)
		n = 1;
	times = calloc(n, sizeof(*times));
	if (!times)
		return 1;

	btf = btf__parse(path, NULL);
	if (!btf) {
		fprintf(stderr, "btf__parse(%s): error %d\n", path, errno);
		return 1;
	}
	types = btf__type_cnt(btf) - 1;
	btf__free(btf);

	for (i = 0; i < n; i++) {
		double t0 = now_ms();

		btf = btf__parse(path, NULL);
		times[i] = now_ms() - t0;
		if (!btf) {
			fprintf(stderr, "btf__parse(%s): error %d\n", path, errno);
			return 1;
		}
		btf__free(btf);
	}
	qsort(times, n, sizeof(*times), cmp_double);
	printf("{\"path\":\"%s\",\"iterations\":%d,\"types\":%u,\"median_ms\":%.4f,\"min_ms\":%.4f}\n",
	       path, n, types, times[n / 2], times[0]);
	free(times);
	return 0;
}
